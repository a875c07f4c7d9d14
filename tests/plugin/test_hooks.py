"""One test per hook (``test_hook_<name>``): the host calls it as docs/plugins/hooks.md says."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import click
import pytest
from click.testing import CliRunner
from quart import Blueprint

from visa_platform.domain.principal import Principal, PrincipalKind
from visa_platform.plugin import PluginHost, RegistryError, hookimpl
from visa_platform.plugin.types import (
    InstanceEvent,
    RequestCredentials,
    SecurityGroupQuery,
    SessionEvent,
    UserEvent,
)

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
INSTANCE = InstanceEvent(
    instance_id=7,
    uid="ab12cd34",
    name="my-desktop",
    state="ACTIVE",
    owner_id="1001",
    plan_id=3,
    compute_id="srv-1",
    occurred_at=NOW,
    actor_id="1001",
)
SESSION = SessionEvent(
    instance_id=7,
    instance_uid="ab12cd34",
    user_id="1002",
    role="SUPPORT",
    protocol="guacamole",
    connection_id="$c1",
    client_id="client-9",
    occurred_at=NOW,
)
QUERY = SecurityGroupQuery(
    instance_id=7,
    instance_uid="ab12cd34",
    owner_id="1001",
    owner_roles=frozenset({"STAFF"}),
    flavour_id=2,
    cloud_id=None,
    experiment_ids=("e1",),
    instrument_ids=(42,),
)
CREDENTIALS = RequestCredentials("GET", "/api/account", {"x-site-key": "k"}, "127.0.0.1")


class Recorder:
    """Records every event hook call; the async ones await before recording."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    async def visa_instance_created(self, event: InstanceEvent) -> None:
        await asyncio.sleep(0)
        self.calls.append(("created", event))

    @hookimpl
    def visa_instance_state_changed(self, event: InstanceEvent, previous_state: str) -> None:
        self.calls.append(("state_changed", (event.state, previous_state)))

    @hookimpl
    async def visa_instance_deleted(self, event: InstanceEvent) -> None:
        self.calls.append(("deleted", event))

    @hookimpl
    def visa_session_opened(self, event: SessionEvent) -> None:
        self.calls.append(("session_opened", event))

    @hookimpl
    async def visa_session_closed(self, event: SessionEvent) -> None:
        self.calls.append(("session_closed", event))

    @hookimpl
    def visa_user_logged_in(self, event: UserEvent) -> None:
        self.calls.append(("logged_in", event))


class Exploding:
    """Every event implementation raises: the host must log and carry on."""

    @hookimpl
    def visa_instance_created(self) -> None:
        raise RuntimeError("boom")

    @hookimpl
    async def visa_instance_state_changed(self) -> None:
        raise RuntimeError("boom")

    @hookimpl
    def visa_instance_deleted(self) -> None:
        raise RuntimeError("boom")

    @hookimpl
    def visa_session_opened(self) -> None:
        raise RuntimeError("boom")

    @hookimpl
    def visa_session_closed(self) -> None:
        raise RuntimeError("boom")

    @hookimpl
    def visa_user_logged_in(self) -> None:
        raise RuntimeError("boom")


@pytest.fixture
def events() -> tuple[PluginHost, Recorder]:
    host = PluginHost()
    recorder = Recorder()
    host.register(recorder, "recorder")
    host.register(Exploding(), "exploding")  # registered last, so called first
    return host, recorder


# -- registries ------------------------------------------------------------------------------


def _registry_plugin(hook: str, ids: list[str]) -> object:
    class P:
        pass

    def impl(register: Any) -> None:
        for type_id in ids:
            register.add(type_id, dict, description=f"{type_id} type")

    setattr(P, hook, staticmethod(hookimpl(impl)))
    impl.__name__ = hook
    return P()


def _check_registry(hook: str, attr: str, kind: str) -> None:
    host = PluginHost()
    host.register(_registry_plugin(hook, ["alpha", "beta"]), "first")
    host.register(_registry_plugin(hook, ["gamma"]), "second")
    registry = getattr(host, attr)
    assert registry.kind == kind
    assert registry.ids() == ["alpha", "beta", "gamma"]
    assert registry.get("gamma").plugin == "second"
    assert registry.get("alpha").description == "alpha type"
    assert registry.create("beta", answer=42) == {"answer": 42}
    with pytest.raises(RegistryError, match=r"unknown .* 'delta' \(known: alpha, beta, gamma\)"):
        registry.get("delta")
    # a duplicate id rejects all of that plugin's additions and is recorded as its error
    host.register(_registry_plugin(hook, ["zeta", "alpha"]), "third")
    registry = getattr(host, attr)
    assert registry.ids() == ["alpha", "beta", "gamma"]
    third = next(i for i in host.plugins() if i.name == "third")
    assert "registered twice" in third.errors[0]
    assert "'first'" in third.errors[0]


def test_hook_visa_register_compute_backends() -> None:
    _check_registry("visa_register_compute_backends", "compute_backends", "compute backend")


def test_hook_visa_register_desktop_protocols() -> None:
    _check_registry("visa_register_desktop_protocols", "desktop_protocols", "desktop protocol")


def test_hook_visa_register_account_providers() -> None:
    _check_registry("visa_register_account_providers", "account_providers", "account provider")


def test_hook_visa_register_notification_channels() -> None:
    _check_registry(
        "visa_register_notification_channels", "notification_channels", "notification channel"
    )


def test_hook_visa_register_etl_sources() -> None:
    _check_registry("visa_register_etl_sources", "etl_sources", "ETL source")


def test_registry_rejects_bad_ids_and_non_callables() -> None:
    class Bad:
        @hookimpl
        def visa_register_compute_backends(self, register: Any) -> None:
            register.add("Has Spaces", dict)

    class NotCallable:
        @hookimpl
        def visa_register_compute_backends(self, register: Any) -> None:
            register.add("ok", "not a factory")

    host = PluginHost()
    host.register(Bad(), "bad")
    host.register(NotCallable(), "notcallable")
    assert host.compute_backends.ids() == []
    errors = {i.name: i.errors for i in host.plugins()}
    assert "is invalid" in errors["bad"][0]
    assert "not callable" in errors["notcallable"][0]


# -- application -----------------------------------------------------------------------------


def test_hook_visa_register_commands() -> None:
    @click.group()
    def cli() -> None:
        pass

    @cli.command("serve")
    def original_serve() -> None:
        click.echo("the real serve")

    class Commands:
        @hookimpl
        def visa_register_commands(self, cli: click.Group) -> None:
            @click.command("hello")
            @click.argument("name")
            def hello(name: str) -> None:
                click.echo(f"hello {name}")

            @click.command("serve")
            def hijack() -> None:
                click.echo("hijacked")

            cli.add_command(hello)
            cli.add_command(hijack)

    host = PluginHost()
    host.register(Commands(), "commands")
    host.add_commands(cli)
    runner = CliRunner()
    assert runner.invoke(cli, ["hello", "visa"]).output == "hello visa\n"
    assert runner.invoke(cli, ["serve"]).output == "the real serve\n"
    errors = next(i for i in host.plugins() if i.name == "commands").errors
    assert errors == ["command 'serve' already exists; not replaced"]


async def test_hook_visa_register_routes(settings: Any, db_engine: Any) -> None:
    from visa_platform.app import create_app

    blueprint = Blueprint("site_status", __name__)

    @blueprint.get("/status")
    async def status() -> dict[str, str]:
        return {"data": "fine"}

    class Routes:
        @hookimpl
        def visa_register_routes(self, register: Any) -> None:
            register.add(blueprint, url_prefix="/api/my-site")

    class BrokenRoutes:
        @hookimpl
        def visa_register_routes(self, register: Any) -> None:
            raise RuntimeError("no routes today")

    host = PluginHost()
    host.register(Routes(), "routes")
    host.register(BrokenRoutes(), "broken")
    app = create_app(settings, plugins=host)
    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/api/my-site/status")
        assert response.status_code == 200
        assert await response.get_json() == {"data": "fine"}
    broken = next(i for i in host.plugins() if i.name == "broken")
    assert "no routes today" in broken.errors[0]


async def test_hook_visa_startup(settings: Any, db_engine: Any) -> None:
    await _check_lifecycle(settings)


async def test_hook_visa_shutdown(settings: Any, db_engine: Any) -> None:
    await _check_lifecycle(settings)


async def _check_lifecycle(settings: Any) -> None:
    from visa_platform.app import create_app

    seen: list[str] = []

    class Lifecycle:
        @hookimpl
        async def visa_startup(self, app: Any) -> None:
            assert app.config["VISA_SETTINGS"] is settings
            seen.append("startup")

        @hookimpl
        def visa_shutdown(self, app: Any) -> None:
            seen.append("shutdown")

    class Failing:
        @hookimpl
        def visa_startup(self) -> None:
            raise RuntimeError("cannot start")

        @hookimpl
        async def visa_shutdown(self) -> None:
            raise RuntimeError("cannot stop")

    host = PluginHost()
    host.register(Lifecycle(), "lifecycle")
    host.register(Failing(), "failing")
    app = create_app(settings, plugins=host)
    async with app.test_app() as test_app:
        assert seen == ["startup"]
        assert (await test_app.test_client().get("/api/health")).status_code == 200
    assert seen == ["startup", "shutdown"]


# -- policies --------------------------------------------------------------------------------


async def test_hook_visa_authenticate_request() -> None:
    alice = Principal("1001", PrincipalKind.USER, frozenset({"STAFF"}), "alice")
    robot = Principal("app-1", PrincipalKind.APPLICATION, frozenset({"APPLICATION_CREDENTIAL"}))
    called: list[str] = []

    class SiteKey:
        @hookimpl
        async def visa_authenticate_request(self, credentials: RequestCredentials) -> Any:
            called.append("sitekey")
            return robot if credentials.header("X-Site-Key") == "k" else None

    class Never:
        @hookimpl
        def visa_authenticate_request(self) -> None:
            called.append("never")
            return None

    class Raising:
        @hookimpl(tryfirst=True)
        def visa_authenticate_request(self) -> None:
            called.append("raising")
            raise RuntimeError("identity provider down")

    class Last:
        @hookimpl(trylast=True)
        def visa_authenticate_request(self, credentials: Any, session: Any) -> Principal:
            called.append("last")
            return alice

    host = PluginHost()
    for name, plugin in [
        ("sitekey", SiteKey()),
        ("last", Last()),
        ("never", Never()),
        ("raising", Raising()),
    ]:
        host.register(plugin, name)
    assert await host.authenticate_request(CREDENTIALS, None, None) is robot  # type: ignore[arg-type]
    # tryfirst first, then last-registered first; stops at the first answer
    assert called == ["raising", "never", "sitekey"]

    called.clear()
    other = RequestCredentials("GET", "/api/account", {}, None)
    assert await host.authenticate_request(other, None, None) is alice  # type: ignore[arg-type]
    assert called == ["raising", "never", "sitekey", "last"]


async def test_authenticate_request_ignores_non_principal_answers() -> None:
    class Sloppy:
        @hookimpl
        def visa_authenticate_request(self) -> str:
            return "alice"

    host = PluginHost()
    host.register(Sloppy(), "sloppy")
    assert await host.authenticate_request(CREDENTIALS, None, None) is None  # type: ignore[arg-type]
    assert await PluginHost().authenticate_request(CREDENTIALS, None, None) is None  # type: ignore[arg-type]


async def test_hook_visa_instance_security_groups() -> None:
    class Defaults:
        @hookimpl
        def visa_instance_security_groups(self, query: SecurityGroupQuery) -> list[str]:
            return ["default", "ssh"]

    class Instruments:
        @hookimpl
        async def visa_instance_security_groups(self, query: SecurityGroupQuery) -> Any:
            await asyncio.sleep(0)
            return ["beamline-42", "ssh"] if 42 in query.instrument_ids else None

    class NoOpinion:
        @hookimpl
        def visa_instance_security_groups(self) -> None:
            return None

    class Sloppy:
        @hookimpl
        def visa_instance_security_groups(self) -> str:
            return "not-a-list"

    class Down:
        @hookimpl
        def visa_instance_security_groups(self, session: Any) -> list[str]:
            raise TimeoutError("security group service timed out")

    host = PluginHost()
    plugins = {
        "defaults": Defaults(),
        "instruments": Instruments(),
        "none": NoOpinion(),
        "sloppy": Sloppy(),
        "down": Down(),
    }
    for name, plugin in plugins.items():
        host.register(plugin, name)
    groups = await host.instance_security_groups(QUERY, session=None)  # type: ignore[arg-type]
    assert groups == ["beamline-42", "ssh", "default"]
    assert await PluginHost().instance_security_groups(QUERY, session=None) == []  # type: ignore[arg-type]


# -- events ----------------------------------------------------------------------------------


async def test_hook_visa_instance_created(events: tuple[PluginHost, Recorder]) -> None:
    host, recorder = events
    await host.instance_created(INSTANCE)
    assert recorder.calls == [("created", INSTANCE)]


async def test_hook_visa_instance_state_changed(events: tuple[PluginHost, Recorder]) -> None:
    host, recorder = events
    await host.instance_state_changed(INSTANCE, previous_state="STARTING")
    assert recorder.calls == [("state_changed", ("ACTIVE", "STARTING"))]


async def test_hook_visa_instance_deleted(events: tuple[PluginHost, Recorder]) -> None:
    host, recorder = events
    await host.instance_deleted(INSTANCE)
    assert recorder.calls == [("deleted", INSTANCE)]


async def test_hook_visa_session_opened(events: tuple[PluginHost, Recorder]) -> None:
    host, recorder = events
    await host.session_opened(SESSION)
    assert recorder.calls == [("session_opened", SESSION)]


async def test_hook_visa_session_closed(events: tuple[PluginHost, Recorder]) -> None:
    host, recorder = events
    await host.session_closed(SESSION)
    assert recorder.calls == [("session_closed", SESSION)]


async def test_hook_visa_user_logged_in(
    events: tuple[PluginHost, Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    host, recorder = events
    event = UserEvent("1001", "alice", first_login=True, occurred_at=NOW)
    await host.user_logged_in(event)
    assert recorder.calls == [("logged_in", event)]
    assert "hook=visa_user_logged_in plugin=exploding outcome=failed" in caplog.text


async def test_default_eventlog_plugin_logs_events(caplog: pytest.LogCaptureFixture) -> None:
    import visa_eventlog.plugin

    host = PluginHost()
    host.register(visa_eventlog.plugin, "eventlog")
    with caplog.at_level("INFO", logger="visa.events"):
        await host.instance_state_changed(INSTANCE, "STARTING")
        await host.session_closed(SESSION)
    assert (
        "event=instance_state_changed instance_id=7 uid=ab12cd34 state=ACTIVE owner=1001 "
        "actor=1001 previous_state=STARTING" in caplog.text
    )
    assert "event=session_closed instance_id=7" in caplog.text
