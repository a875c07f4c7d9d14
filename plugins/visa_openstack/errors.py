"""openstacksdk and keystoneauth exceptions -> the platform's typed cloud errors."""

from __future__ import annotations

import logging

import requests
from keystoneauth1 import exceptions as ksa
from openstack import exceptions as sdk

from visa_platform.compute import (
    CloudAuthenticationError,
    CloudConfigurationError,
    CloudError,
    CloudNotFoundError,
    CloudProtocolError,
    CloudRejectedError,
    CloudUnavailableError,
)

log = logging.getLogger("visa_openstack")


def _from_status(status: int, message: str) -> CloudError:
    if status == 401:
        return CloudAuthenticationError(message, status=status)
    if status == 404:
        return CloudNotFoundError(message, status=status)
    if status >= 500 or status == 429:
        return CloudUnavailableError(message, status=status)
    if status == 403:
        user = "The cloud refused the request (quota exceeded or not allowed)."
        return CloudRejectedError(message, status=status, user_message=user)
    return CloudRejectedError(message, status=status)


def translate(exc: BaseException, operation: str) -> CloudError:
    """The typed error for ``exc`` raised while doing ``operation``."""
    message = f"{operation}: {type(exc).__name__}: {exc}"
    if isinstance(exc, CloudError):
        return exc
    if isinstance(exc, sdk.HttpException) and exc.status_code is not None:
        return _from_status(int(exc.status_code), message)
    if isinstance(exc, sdk.NotFoundException | sdk.ResourceNotFound):
        return CloudNotFoundError(message)
    if isinstance(exc, ksa.Unauthorized | ksa.AuthorizationFailure | ksa.MissingAuthPlugin):
        return CloudAuthenticationError(message, status=401)
    if isinstance(exc, ksa.HttpError) and exc.http_status is not None:
        return _from_status(int(exc.http_status), message)
    if isinstance(
        exc,
        ksa.ConnectionError
        | ksa.DiscoveryFailure
        | requests.ConnectionError
        | requests.Timeout
        | TimeoutError
        | ConnectionError,
    ):
        return CloudUnavailableError(message)
    if isinstance(exc, sdk.EndpointNotFound | ksa.EndpointNotFound | sdk.ConfigException):
        return CloudConfigurationError(message)
    if isinstance(exc, ValueError | KeyError | TypeError | sdk.InvalidResponse):
        return CloudProtocolError(message)  # e.g. a body that is not JSON
    # Anything else: an answer the SDK did not expect.
    log.warning("operation=%s outcome=unexpected_error", operation, exc_info=exc)
    return CloudProtocolError(message)
