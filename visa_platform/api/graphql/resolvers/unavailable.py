"""Features this server does not have yet: bookings, device pools, hypervisors, availability
forecasts, live migration. Queries answer empty (or null / false); mutations fail with the code
``NOT_AVAILABLE``. The schema keeps every field so that the admin UI's queries validate."""

from __future__ import annotations

from typing import Any

from visa_platform.api.graphql.errors import NotAvailable
from visa_platform.api.graphql.resolvers.registry import resolver

EMPTY_LISTS = (
    "Query.bookingConfigurations",
    "Query.bookingRequests",
    "Query.bookingTokens",
    "Query.cloudDevices",
    "Query.devicePools",
    "Query.devicePoolUsage",
    "Query.flavourAvailabilitiesFutures",
    "Query.hypervisors",
)
NULLS = ("Query.bookingConfigurationForCloudClient", "Query.hypervisor")
FAILING = {
    "Query.bookingRequest": "bookings are not available on this server",
    "Mutation.createOrUpdateBookingConfiguration": "bookings are not available on this server",
    "Mutation.bookingRequestResponse": "bookings are not available on this server",
    "Mutation.migrateCloudInstance": "live migration is not available on this server",
    "Mutation.createDevicePool": "device pools are not available on this server",
    "Mutation.updateDevicePool": "device pools are not available on this server",
    "Mutation.deleteDevicePool": "device pools are not available on this server",
}


async def _empty(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> list[Any]:
    return []


async def _null(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> None:
    return None


def _failing(message: str) -> Any:
    async def resolve(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
        raise NotAvailable(message)

    return resolve


for _name in EMPTY_LISTS:
    resolver(_name)(_empty)
for _name in NULLS:
    resolver(_name)(_null)
for _name, _message in FAILING.items():
    resolver(_name)(_failing(_message))


@resolver("Query.hypervisorsAvailable")
async def hypervisors_available(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> bool:
    return False


@resolver("Query.cloudResourceClasses")
async def cloud_resource_classes(
    parent: Any, args: dict[str, Any], ctx: Any, info: Any
) -> dict[str, Any]:
    return {"available": False, "resourceClasses": []}
