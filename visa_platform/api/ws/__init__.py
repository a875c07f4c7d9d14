"""Websocket endpoints under ``/api/ws``."""
