"""Sessions, notifications, extension requests, application credentials, security groups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.api.graphql.resolvers.common import cloud_id, context, settings
from visa_platform.api.graphql.resolvers.instances import cloud_loader, instance_loader
from visa_platform.api.graphql.resolvers.paging import connection, page_of
from visa_platform.api.graphql.resolvers.registry import resolver
from visa_platform.domain.enums import SystemNotificationLevel, SystemNotificationType
from visa_platform.services import (
    admin_credentials,
    admin_extensions,
    admin_notifications,
    admin_security_groups,
    admin_sessions,
)
from visa_platform.services.admin_extensions import Decision
from visa_platform.services.admin_notifications import NotificationChange

# -- sessions ----------------------------------------------------------------------------------


@resolver("Query.sessions")
async def sessions(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    page = page_of(args.get("pagination"), None)
    rows, total = await context(ctx).read(admin_sessions.active_members, page.offset, page.limit)
    return connection(rows, total, page)


@resolver("Query.countSessions")
async def count_sessions(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return await context(ctx).read(admin_sessions.count_members)


@resolver("Query.countActiveSessions")
async def count_active_sessions(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return await context(ctx).read(admin_sessions.count_recently_active_members)


@resolver("Query.jupyterSessions")
async def jupyter_sessions(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    page = page_of(args.get("pagination"), None)
    rows, total = await context(ctx).read(
        admin_sessions.active_jupyter_sessions, page.offset, page.limit
    )
    return connection(rows, total, page)


@resolver("Query.countJupyterSessions")
async def count_jupyter_sessions(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return await context(ctx).read(admin_sessions.count_jupyter_instances)


@resolver("InstanceJupyterSession.instance")
async def jupyter_instance(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await instance_loader(ctx).load(parent.instance_id)


@resolver("InstanceJupyterSession.duration")
async def jupyter_duration(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    end = datetime.now(UTC) if parent.active else (parent.updated_at or parent.created_at)
    return max(int((end - parent.created_at).total_seconds()), 0)


# -- system notifications ----------------------------------------------------------------------


@resolver("Query.systemNotifications")
async def system_notifications(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_notifications.notifications)


def _notification_change(given: dict[str, Any]) -> NotificationChange:
    return NotificationChange(
        message=given["message"],
        level=SystemNotificationLevel(given["level"]),
        type=SystemNotificationType(given["type"]),
        activated_at=given.get("activatedAt"),
    )


def _notification_write(operation: Any, *, with_input: bool = True, with_id: bool = True) -> Any:
    async def resolve(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
        gql = context(ctx)
        params: list[Any] = []
        if with_id:
            params.append(args["id"])
        if with_input:
            params.append(_notification_change(args["input"]))

        async def change(session: AsyncSession) -> Any:
            result = await operation(session, *params)
            gql.events.append(admin_notifications.changed_event())
            return result

        return await gql.write(change)

    return resolve


resolver("Mutation.createSystemNotification")(
    _notification_write(admin_notifications.create, with_id=False)
)
resolver("Mutation.updateSystemNotification")(_notification_write(admin_notifications.update))
resolver("Mutation.deleteSystemNotification")(
    _notification_write(admin_notifications.delete, with_input=False)
)

# -- extension requests ------------------------------------------------------------------------


@resolver("Query.instanceExtensionRequests")
async def extension_requests(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_extensions.pending_requests)


@resolver("InstanceExtensionRequest.instance")
async def extension_instance(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await instance_loader(ctx).load(parent.instance_id)


@resolver("InstanceExtensionRequest.comments")
async def extension_comments(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> str:
    return parent.comments or ""


@resolver("Mutation.handleInstanceExtensionRequest")
async def handle_extension(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    gql = context(ctx)
    given = args["response"]
    decision = Decision(
        accepted=given["accepted"],
        handler_comments=given.get("handlerComments"),
        termination_date=given.get("terminationDate"),
    )

    async def change(session: AsyncSession) -> Any:
        handled = await admin_extensions.handle(
            session, args["requestId"], gql.principal.user_id, decision, settings(ctx)
        )
        gql.events.append(admin_extensions.changed_event())
        return handled

    request, email = await gql.write(change)
    gql.runtime.notifications.notify(email)
    return request


# -- application credentials -------------------------------------------------------------------


@resolver("Query.applicationCredentials")
async def application_credentials(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_credentials.credentials)


@resolver("Mutation.createApplicationCredential")
async def create_credential(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(admin_credentials.create, args["input"]["name"])


@resolver("Mutation.updateApplicationCredential")
async def update_credential(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(admin_credentials.rename, args["id"], args["input"]["name"])


@resolver("Mutation.deleteApplicationCredential")
async def delete_credential(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).write(admin_credentials.delete, args["id"])


# -- security groups ---------------------------------------------------------------------------


@resolver("Query.securityGroups")
async def security_groups(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_security_groups.security_groups)


@resolver("Query.securityGroupsByName")
async def security_groups_by_name(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_security_groups.security_groups, args["name"])


@resolver("Query.securityGroupFilters")
async def security_group_filters(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_security_groups.filters)


@resolver("Query.securityGroupFilter")
async def security_group_filter(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(
        admin_security_groups.find_filter,
        args["securityGroupId"],
        args["objectId"],
        args["objectType"],
    )


@resolver("SecurityGroup.cloudId")
async def security_group_cloud_id(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return cloud_id(parent)


@resolver("SecurityGroup.cloudClient")
async def security_group_cloud(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await cloud_loader(ctx).load(cloud_id(parent))


@resolver("SecurityGroupFilter.objectName")
async def filter_object_name(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    loader = context(ctx).loader("filter.names", admin_security_groups.object_names, None)
    return await loader.load((parent.object_type.value, parent.object_id))
