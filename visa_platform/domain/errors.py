"""Domain errors raised by services; the API layer maps each to one HTTP status (api/errors.py)."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``message`` is safe to show to the caller."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing asked for does not exist (or the caller may not know it exists). HTTP 404."""


class BadRequest(DomainError):
    """The request is malformed or breaks a rule about its content. HTTP 400."""


class Unauthenticated(DomainError):
    """No (valid) credentials. HTTP 401 with ``WWW-Authenticate: Bearer``."""


class NotAuthorized(DomainError):
    """Authenticated but not allowed on this object. HTTP 401 as VISA answers (its challenge
    header carries the message); the portal depends on it (e.g. "owner has not connected")."""


class Forbidden(DomainError):
    """Authenticated but lacking a required role. HTTP 403."""


class Unavailable(DomainError):
    """A service the request needs (account provider, cloud) is not answering. HTTP 503."""


class ValidationFailed(BadRequest):
    """A request body broke its schema; ``violations`` are ``(field, message)`` pairs. HTTP 400
    with the violation report the original returns for bean-validation failures."""

    def __init__(self, violations: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in violations))
        self.violations = violations
