"""Users, roles and groups: queries, nested fields and mutations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.api.graphql.resolvers.common import context
from visa_platform.api.graphql.resolvers.instances import instance_loader
from visa_platform.api.graphql.resolvers.paging import connection, page_of
from visa_platform.api.graphql.resolvers.registry import resolver
from visa_platform.db.models import User
from visa_platform.services import admin_users
from visa_platform.services.admin_instances import parse_admin_date
from visa_platform.services.admin_users import UserChange, UserFilter

MAX_USERS = 200


def _filter(args: dict[str, Any]) -> UserFilter:
    given = args.get("filter") or {}
    return UserFilter(id=given.get("id"), role=given.get("role"), activated=given.get("activated"))


@resolver("Query.users")
async def users(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    page = page_of(args.get("pagination"), MAX_USERS)
    order = args.get("orderBy") or {}
    rows, total = await context(ctx).read(
        admin_users.search,
        _filter(args),
        order.get("name"),
        order.get("ascending"),
        page.offset,
        page.limit,
    )
    return connection(rows, total, page)


@resolver("Query.recentActiveUsers")
async def recent_active_users(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    page = page_of(args.get("pagination"), MAX_USERS)
    rows, total = await context(ctx).read(admin_users.recent_active, page.offset, page.limit)
    return connection(rows, total, page)


@resolver("Query.searchForUserByLastName")
async def search_by_last_name(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    page = page_of(args.get("pagination"), MAX_USERS)
    rows, total = await context(ctx).read(
        admin_users.search_by_last_name,
        args["lastName"],
        args["onlyActivatedUsers"],
        page.offset,
        page.limit,
    )
    return connection(rows, total, page)


@resolver("Query.countUsers")
async def count_users(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return await context(ctx).read(admin_users.count, _filter(args))


@resolver("Query.countActivatedUsers")
async def count_activated(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> int:
    return await context(ctx).read(admin_users.count, UserFilter(activated=True))


@resolver("Query.user")
async def user(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> User:
    return await context(ctx).read(admin_users.get, str(args["id"]))


@resolver("Query.rolesAndGroups")
async def roles_and_groups(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_users.roles_and_groups, roles=True, groups=True)


@resolver("Query.roles")
async def roles(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_users.roles_and_groups, roles=True, groups=False)


@resolver("Query.groups")
async def groups(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).read(admin_users.roles_and_groups, roles=False, groups=True)


# -- nested fields -----------------------------------------------------------------------------


@resolver("User.fullName")
async def full_name(parent: User, args: dict[str, Any], ctx: Any, info: Any) -> str:
    return " ".join(n for n in (parent.first_name, parent.last_name) if n)


@resolver("User.activeUserRoles")
async def active_user_roles(parent: User, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).loader("user.roles", admin_users.active_roles, []).load(parent.id)


@resolver("User.groups")
async def user_groups(parent: User, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return await context(ctx).loader("user.groups", admin_users.groups, []).load(parent.id)


@resolver("User.instances")
async def user_instances(parent: User, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    gql = context(ctx)
    ids: list[int] = await gql.loader("user.instances", admin_users.member_instance_ids, []).load(
        parent.id
    )
    found = await instance_loader(ctx).load_many(ids)
    return [i for i in found if i is not None]


@resolver("User.experiments")
async def user_experiments(parent: User, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    return (
        await context(ctx).loader("user.experiments", admin_users.experiments, []).load(parent.id)
    )


# -- mutations ---------------------------------------------------------------------------------


@resolver("Mutation.updateUserRole")
async def update_user_role(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> User:
    return await context(ctx).write(
        admin_users.update_user_role, args["userId"], args["roleName"], args["isEnabled"]
    )


@resolver("Mutation.updateUser")
async def update_user(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> User:
    given = args["input"]
    expires = given.get("guestExpiresAt")
    group_ids = given.get("groupIds")
    change = UserChange(
        instance_quota=given["instanceQuota"],
        admin=given["admin"],
        guest=given["guest"],
        guest_expires_at=parse_admin_date(expires) if expires else None,
        group_ids=tuple(i for i in group_ids if i is not None) if group_ids is not None else None,
    )
    return await context(ctx).write(admin_users.update_user, args["id"], change)


@resolver("Mutation.createRole")
async def create_role(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    given = args["input"]
    return await context(ctx).write(
        admin_users.create_group, given["name"], given.get("description")
    )


@resolver("Mutation.updateRole")
async def update_role(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    given = args["input"]
    return await context(ctx).write(
        admin_users.update_group, args["id"], given["name"], given.get("description")
    )


@resolver("Mutation.deleteRole")
async def delete_role(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> bool:
    async def change(session: AsyncSession) -> bool:
        return await admin_users.delete_group(session, args["id"])

    return await context(ctx).write(change)
