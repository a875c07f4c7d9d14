"""Mutations: instance actions, users and groups, notifications, credentials, extensions."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from graphql_client import GraphQLClient
from sqlalchemy import func, select, update

from visa_platform.app import create_app
from visa_platform.db.models import (
    ApplicationCredential,
    Instance,
    InstanceCommand,
    InstanceExpiration,
    InstanceExtensionRequest,
    Role,
    SystemNotification,
)
from visa_platform.domain.enums import InstanceCommandType, InstanceState
from visa_platform.runtime import runtime
from visa_platform.testing.accounts import StaticAccounts, bearer


async def fresh(session: Any, model: Any, key: Any) -> Any:
    """The row as committed now (ends the test session's snapshot first)."""
    await session.rollback()
    return await session.get(model, key, populate_existing=True)


def _events(subscriber: Any) -> list[Any]:
    found = []
    while not subscriber.queue.empty():
        found.append(subscriber.queue.get_nowait())
    return found


async def test_instance_actions_queue_commands_and_tell_the_owner(
    gql: GraphQLClient, admin: Any, world: Any, app: Any, db_session: Any
) -> None:
    broker = runtime(app.app).broker
    active, stopped = world.instances[0].id, world.instances[1].id
    async with broker.subscribe("1001", "client-1", frozenset()) as owner:
        data = await gql.data(
            admin,
            """mutation ($a: Int!, $s: Int!) {
                 reboot: rebootInstance(id: $a) { message }
                 start: startInstance(id: $s) { message } }""",
            {"a": active, "s": stopped},
        )
        assert data == {
            "reboot": {"message": "Instance will be rebooted"},
            "start": {"message": "Instance will be started"},
        }
        events = _events(owner)
    assert [e.type for e in events] == ["user:instance_state_changed"] * 2
    assert [e.data["state"] for e in events] == ["REBOOTING", "STARTING"]
    await db_session.rollback()
    commands = (
        await db_session.scalars(select(InstanceCommand).order_by(InstanceCommand.id))
    ).all()
    assert [(c.instance_id, c.action_type, c.user_id) for c in commands] == [
        (active, InstanceCommandType.REBOOT, "9001"),
        (stopped, InstanceCommandType.START, "9001"),
    ]


async def test_shutdown_and_delete(
    gql: GraphQLClient, admin: Any, world: Any, db_session: Any
) -> None:
    active, stopped = world.instances[0].id, world.instances[1].id
    data = await gql.data(
        admin,
        """mutation ($a: Int!, $s: Int!) {
             down: shutdownInstance(id: $a) { message }
             gone: deleteInstance(id: $s) { message } }""",
        {"a": active, "s": stopped},
    )
    assert data["down"]["message"] == "Instance will be shutdown"
    assert data["gone"]["message"] == "Instance is scheduled for deletion"
    await db_session.rollback()
    states = dict(
        (await db_session.execute(select(Instance.id, Instance.state).order_by(Instance.id))).all()
    )
    assert states[active] is InstanceState.STOPPING
    assert states[stopped] is InstanceState.DELETING


async def test_actions_on_unknown_instances_change_nothing(
    gql: GraphQLClient, admin: Any, world: Any, db_session: Any
) -> None:
    status, body = await gql.post(admin, "mutation { startInstance(id: 424242) { message } }")
    assert status == 200 and body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await db_session.scalars(select(InstanceCommand))).all() == []


async def test_termination_date(
    gql: GraphQLClient, admin: Any, world: Any, db_session: Any
) -> None:
    target = world.instances[0].id
    soon = datetime(2029, 1, 1, tzinfo=UTC)
    db_session.add(InstanceExpiration(instance_id=target, expiration_date=soon))
    await db_session.execute(
        update(Instance).where(Instance.id == target).values(expiration_date=soon)
    )
    await db_session.commit()
    mutation = """mutation ($id: Int!, $d: String) {
        updateInstanceTerminationDate(id: $id, date: $d) { message } }"""
    await gql.data(admin, mutation, {"id": target, "d": "2030-01-02 03:04"})
    row = await fresh(db_session, Instance, target)
    assert row.termination_date == datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    # the pending expiration would have deleted the instance at the old date
    assert row.expiration_date is None
    assert await db_session.scalar(select(func.count()).select_from(InstanceExpiration)) == 0
    _status, body = await gql.post(admin, mutation, {"id": target, "d": "02/01/2030"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    await gql.data(admin, mutation, {"id": target, "d": None})
    row = await fresh(db_session, Instance, target)
    assert row.termination_date is None


async def test_update_user_and_roles(
    gql: GraphQLClient, admin: Any, world: Any, db_session: Any
) -> None:
    data = await gql.data(
        admin,
        """mutation ($groups: [Int]) {
             updateUser(id: "1002", input: {instanceQuota: 7, admin: true, guest: true,
                        guestExpiresAt: "2031-05-06 07:08", groupIds: $groups}) {
               id instanceQuota activeUserRoles { role { name } expiresAt } groups { name } } }""",
        {"groups": [world.group.id]},
    )
    user = data["updateUser"]
    assert user["instanceQuota"] == 7
    assert {r["role"]["name"]: r["expiresAt"] for r in user["activeUserRoles"]} == {
        "ADMIN": None,
        "GUEST": "2031-05-06T07:08:00.000Z",
    }
    assert user["groups"] == [{"name": "beamline-team"}]
    data = await gql.data(
        admin,
        """mutation { updateUserRole(userId: "1002", roleName: "ADMIN", isEnabled: false) {
             activeUserRoles { role { name } } } }""",
    )
    assert [r["role"]["name"] for r in data["updateUserRole"]["activeUserRoles"]] == ["GUEST"]
    _status, body = await gql.post(
        admin,
        """mutation { updateUser(id: "1002", input: {instanceQuota: 1, admin: false,
             guest: false, groupIds: [999]}) { id } }""",
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # nothing of the refused change was written
    quota = await gql.data(admin, '{ user(id: "1002") { instanceQuota } }')
    assert quota["user"]["instanceQuota"] == 7


async def test_group_crud(gql: GraphQLClient, admin: Any, world: Any, db_session: Any) -> None:
    created = await gql.data(
        admin,
        """mutation { createRole(input: {name: "optics", description: "Optics"}) {
             id name groupCreatedAt } }""",
    )
    group = created["createRole"]
    assert group["name"] == "optics" and group["groupCreatedAt"].endswith("Z")
    _, body = await gql.post(admin, 'mutation { createRole(input: {name: "OPTICS"}) { id } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    updated = await gql.data(
        admin,
        """mutation ($id: Int!) {
             updateRole(id: $id, input: {name: "optics-2"}) { name description } }""",
        {"id": group["id"]},
    )
    assert updated["updateRole"] == {"name": "optics-2", "description": None}
    deleted = await gql.data(
        admin, "mutation ($id: Int!) { deleteRole(id: $id) }", {"id": group["id"]}
    )
    assert deleted == {"deleteRole": True}
    groups = await gql.data(admin, "{ groups { name } }")
    assert [g["name"] for g in groups["groups"]] == ["beamline-team"]
    row = await fresh(db_session, Role, group["id"])
    assert row is not None and row.group_deleted_at is not None
    _status, body = await gql.post(admin, "mutation { deleteRole(id: 1) }")  # a role, not a group
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    role = await fresh(db_session, Role, 1)
    assert role.group_deleted_at is None


async def test_system_notifications_broadcast(
    gql: GraphQLClient, admin: Any, world: Any, app: Any, db_session: Any
) -> None:
    broker = runtime(app.app).broker
    async with broker.subscribe("1002", "client-9", frozenset()) as anyone:
        created = await gql.data(
            admin,
            """mutation { createSystemNotification(input: {message: "Hello", level: INFO,
                 type: MODAL, activatedAt: "2030-01-02 03:04:5"}) {
                 id message level type activatedAt } }""",
        )
        note = created["createSystemNotification"]
        assert note["activatedAt"] == "2030-01-02T03:04:05.000Z"
        updated = await gql.data(
            admin,
            """mutation ($id: Int!) { updateSystemNotification(id: $id, input: {message: "Bye",
                 level: ERROR, type: BANNER}) { message level activatedAt } }""",
            {"id": note["id"]},
        )
        assert updated["updateSystemNotification"] == {
            "message": "Bye",
            "level": "ERROR",
            "activatedAt": None,
        }
        await gql.data(
            admin,
            "mutation ($id: Int!) { deleteSystemNotification(id: $id) { id } }",
            {"id": note["id"]},
        )
        events = _events(anyone)
    assert [e.type for e in events] == ["global:notifications_changed"] * 3
    row = await fresh(db_session, SystemNotification, note["id"])
    assert row is not None and row.deleted_at is not None
    _status, body = await gql.post(
        admin,
        """mutation { createSystemNotification(input: {message: "x", level: INFO, type: BANNER,
             activatedAt: "tomorrow"}) { id } }""",
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_application_credentials(
    gql: GraphQLClient, admin: Any, world: Any, client: Any, db_session: Any
) -> None:
    created = (
        await gql.data(
            admin,
            """mutation { createApplicationCredential(input: {name: "etl"}) {
                 id name applicationId applicationSecret } }""",
        )
    )["createApplicationCredential"]
    assert len(created["applicationId"]) == 32 and len(created["applicationSecret"]) == 72
    row = await fresh(db_session, ApplicationCredential, created["id"])
    assert row is not None and created["applicationSecret"] not in row.application_secret
    basic = base64.b64encode(
        f"{created['applicationId']}:{created['applicationSecret']}".encode()
    ).decode()
    response = await client.get("/api/configuration", headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200  # the plugin accepted the credential
    renamed = await gql.data(
        admin,
        """mutation ($id: Int!) {
             updateApplicationCredential(id: $id, input: {name: "etl-2"}) { name } }""",
        {"id": created["id"]},
    )
    assert renamed["updateApplicationCredential"] == {"name": "etl-2"}
    listed = await gql.data(admin, "{ applicationCredentials { id name } }")
    assert listed["applicationCredentials"] == [{"id": created["id"], "name": "etl-2"}]
    await gql.data(
        admin,
        "mutation ($id: Int!) { deleteApplicationCredential(id: $id) { id } }",
        {"id": created["id"]},
    )
    assert (await gql.data(admin, "{ applicationCredentials { id } }")) == {
        "applicationCredentials": []
    }
    response = await client.get("/api/configuration", headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 401


async def test_the_default_cloud_cannot_be_changed(gql: GraphQLClient, admin: Any) -> None:
    status, body = await gql.post(admin, "mutation { deleteCloudClient(id: -1) }")
    assert status == 200 and body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "environment" in body["errors"][0]["message"]


HANDLE = """
mutation ($id: Int!, $response: InstanceExtensionResponseInput!) {
  handleInstanceExtensionRequest(requestId: $id, response: $response) {
    id state comments instance { id terminationDate }
  }
}
"""


async def test_extension_requests_are_handled_and_the_owner_emailed(
    settings: Any, db_engine: Any, db_session: Any, world: Any, smtp_server: Any
) -> None:
    emailing = settings.model_copy(
        update={
            "notification_email_adapter_enabled": True,
            "notification_email_adapter_host": "127.0.0.1",
            "notification_email_adapter_port": smtp_server.port,
            "notification_email_adapter_from_email_address": "visa@example.org",
            "notification_email_adapter_admin_email_address": "admin@example.org",
        }
    )
    admin = bearer(StaticAccounts(emailing).add("9001", roles=["ADMIN"]))
    application = create_app(emailing)
    async with application.test_app() as running:
        gql = GraphQLClient(running.test_client())
        broker = runtime(application).broker
        async with broker.subscribe("9001", "c", frozenset({"ADMIN"})) as admins:
            data = await gql.data(
                admin,
                HANDLE,
                {
                    "id": world.extension_request.id,
                    "response": {
                        "handlerId": "ignored",
                        "handlerComments": "Enjoy",
                        "terminationDate": "2030-06-01 12:00",
                        "accepted": True,
                    },
                },
            )
            events = _events(admins)
        handled = data["handleInstanceExtensionRequest"]
        assert handled["state"] == "ACCEPTED"
        assert handled["instance"]["terminationDate"] == "2030-06-01T12:00:00.000Z"
        assert [e.type for e in events] == ["admin:extension_requests_changed"]
        (email,) = await smtp_server.wait_for(1)
        assert email.subject == "[VISA] Your instance has been granted an extended lifetime"
        assert "ada@example.org" in email.recipients
        # handled once only
        _status, body = await gql.post(
            admin,
            HANDLE,
            {
                "id": world.extension_request.id,
                "response": {"handlerId": "x", "terminationDate": "", "accepted": False},
            },
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        pending = await gql.data(admin, "{ instanceExtensionRequests { id } }")
        assert pending == {"instanceExtensionRequests": []}
    row = await fresh(db_session, InstanceExtensionRequest, world.extension_request.id)
    assert (row.handler_id, row.handler_comments) == ("9001", "Enjoy")


async def test_refused_extension_keeps_the_date(
    gql: GraphQLClient, admin: Any, world: Any, db_session: Any
) -> None:
    before = world.instances[0].termination_date
    data = await gql.data(
        admin,
        HANDLE,
        {
            "id": world.extension_request.id,
            "response": {"handlerId": "x", "terminationDate": "", "accepted": False},
        },
    )
    assert data["handleInstanceExtensionRequest"]["state"] == "REFUSED"
    row = await fresh(db_session, Instance, world.instances[0].id)
    assert row.termination_date == before
