"""Every resolver of the admin schema; importing this package fills :data:`RESOLVERS`."""

from visa_platform.api.graphql.resolvers import (  # noqa: F401 - they register themselves
    activity,
    catalogue,
    catalogue_changes,
    clouds,
    instances,
    unavailable,
    users,
)
from visa_platform.api.graphql.resolvers.registry import RESOLVERS

__all__ = ["RESOLVERS"]
