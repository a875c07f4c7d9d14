"""Turning failures into one clear line for the operator (never a traceback wall)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

log = logging.getLogger("visa_platform.cli")

F = TypeVar("F", bound=Callable[..., Any])


class CommandError(click.ClickException):
    """An error the command reports as ``visa: <message>`` with a chosen exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class

    def show(self, file: Any = None) -> None:
        click.echo(f"visa: {self.format_message()}", err=True)


def fail(message: str, exit_code: int = 1) -> NoReturn:
    raise CommandError(message, exit_code)


def describe_database_error(exc: BaseException) -> str:
    """A short, secret-free reason for a database connection or query failure."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    name = type(original).__name__
    return f"{name}: {text}" if text else name


def handle_errors(func: F) -> F:
    """Report configuration, migration and database errors as one line each."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        from visa_platform.config import ConfigError
        from visa_platform.db.migrate import MigrationError

        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            fail(f"configuration error:\n{exc}", 2)
        except MigrationError as exc:
            fail(f"migration failed: {exc}")
        except DatabaseUnavailable as exc:
            fail(str(exc))
        except (SQLAlchemyError, OSError) as exc:
            log.debug("database error", exc_info=True)
            fail(f"database error: {describe_database_error(exc)}")

    return wrapper  # type: ignore[return-value]


class DatabaseUnavailable(Exception):
    """The configured database cannot be reached."""
