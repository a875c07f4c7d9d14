"""Fixtures of the lifecycle-engine tests (the kit lives in engine_fixtures.py)."""

from engine_fixtures import engine

__all__ = ["engine"]
