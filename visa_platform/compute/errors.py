"""Typed errors of compute backends: what went wrong, what to tell a user, whether to retry.

Every backend turns its vendor's failures into these, so that the lifecycle engine can decide
(retry a command, mark an instance ERROR) without knowing the cloud. ``user_message`` is safe to
show to a user (no URLs, tokens or stack traces); ``str(error)`` carries the details for logs.
"""

from __future__ import annotations


class CloudError(Exception):
    """Base of every compute-backend failure."""

    #: Whether the same call may succeed if tried again later (transient fault).
    retryable: bool = False
    default_user_message = "The cloud could not complete the request."

    def __init__(
        self,
        message: str,
        *,
        user_message: str | None = None,
        retryable: bool | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.user_message = user_message or self.default_user_message
        if retryable is not None:
            self.retryable = retryable
        #: HTTP status the cloud answered with, when there was one.
        self.status = status


class CloudNotFoundError(CloudError):
    """The server (or image, flavour, security group) does not exist on the cloud."""

    default_user_message = "The requested cloud resource does not exist."


class CloudUnavailableError(CloudError):
    """The cloud could not be reached or failed: timeout, refused connection, 5xx. Transient."""

    retryable = True
    default_user_message = "The cloud is not available at the moment; please try again later."


class CloudRejectedError(CloudError):
    """The cloud understood the request and refused it (quota exceeded, bad image, conflict)."""

    default_user_message = "The cloud refused the request."


class CloudAuthenticationError(CloudError):
    """The cloud refused our credentials, even after re-authenticating."""

    default_user_message = "The cloud refused the platform's credentials; contact an administrator."


class CloudProtocolError(CloudError):
    """The cloud answered something the backend cannot understand (malformed or unexpected)."""

    retryable = True
    default_user_message = "The cloud gave an unexpected answer; please try again later."


class CloudNotSupportedError(CloudError):
    """The backend lacks this feature (see :class:`~visa_platform.compute.Capability`)."""

    default_user_message = "This cloud does not support the requested operation."


class CloudConfigurationError(CloudError):
    """A cloud client's configuration is incomplete or invalid (raised when it is built)."""

    default_user_message = "The cloud is not configured correctly; contact an administrator."


__all__ = [
    "CloudAuthenticationError",
    "CloudConfigurationError",
    "CloudError",
    "CloudNotFoundError",
    "CloudNotSupportedError",
    "CloudProtocolError",
    "CloudRejectedError",
    "CloudUnavailableError",
]
