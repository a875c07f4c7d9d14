"""Every hook of visa-platform. One module, grouped by the object whose life the hooks follow.

Conventions (see docs/plugins/hooks.md, which documents each hook with its exact signature):

* Every hook is prefixed ``visa_``. An implementation may accept any subset of the arguments.
* "May be async": the implementation may be ``async def`` or return an awaitable, which the host
  awaits.
* "All results are combined" / "First result wins": how the host treats several implementations.
* A failing implementation is logged with its plugin's name and never breaks the host or the other
  plugins, except for registry hooks, whose errors are recorded against the plugin at load time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from sqlalchemy.ext.asyncio import AsyncSession

    from visa_platform.domain.principal import Principal
    from visa_platform.plugin.registry import Register, RouteRegister
    from visa_platform.plugin.types import (
        InstanceEvent,
        RequestCredentials,
        SecurityGroupQuery,
        SessionEvent,
        UserEvent,
    )
    from visa_platform.runtime import Runtime

PROJECT_NAME = "visa_platform"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# ---------------------------------------------------------------------------------------------
# Registries: types contributed by id, picked by configuration
# ---------------------------------------------------------------------------------------------


@hookspec
def visa_register_compute_backends(register: Register) -> None:
    """Contribute compute backend types (``openstack``, ``kubernetes``, ``web`` ...).

    Registry hook: call ``register.add(type_id, factory, description=...)`` once per type. The
    default cloud's ``VISA_DEFAULT_CLOUD_PROVIDER_TYPE`` and each
    ``cloud_provider_configuration.type`` pick a type by id. Ids are unique across plugins: a
    duplicate is recorded as that plugin's load error. Synchronous; called once when the plugins
    are loaded. Implemented by cloud plugins.
    """


@hookspec
def visa_register_desktop_protocols(register: Register) -> None:
    """Contribute remote-desktop protocol types (``guacamole``, ``webx`` ...) by id.

    Registry hook: call ``register.add(type_id, factory, description=...)`` once per type.

    The relay picks the protocol of an instance's desktop session by id. Synchronous; called once
    when the plugins are loaded. Implemented by desktop-protocol plugins.
    """


@hookspec
def visa_register_account_providers(register: Register) -> None:
    """Contribute account provider types (the VISA accounts service, OIDC userinfo ...) by id.

    Registry hook: call ``register.add(type_id, factory, description=...)`` once per type.

    An account provider turns a presented token into a facility account (user id, names, email,
    username, account parameters). Synchronous; called once when the plugins are loaded.
    """


@hookspec
def visa_register_notification_channels(register: Register) -> None:
    """Contribute notification channel types (``email`` ...) by id.

    Registry hook: call ``register.add(type_id, factory, description=...)`` once per type.

    Channels deliver user and admin notifications (instance expiring, extension requests ...).
    Synchronous; called once when the plugins are loaded.
    """


@hookspec
def visa_register_etl_sources(register: Register) -> None:
    """Contribute facility-metadata ETL source types (``csv``, a user-office database ...) by id.

    Registry hook: call ``register.add(type_id, factory, description=...)`` once per type.

    ``visa etl`` picks a source by id and loads employers, users, proposals and experiments from
    it. Synchronous; called once when the plugins are loaded. Implemented by site plugins.
    ``factory(SourceContext)`` returns an ``EtlSource`` (see :mod:`visa_platform.etl.source`).
    """


# ---------------------------------------------------------------------------------------------
# Application: routes, commands, start and stop
# ---------------------------------------------------------------------------------------------


@hookspec
def visa_register_routes(register: RouteRegister) -> None:
    """Contribute HTTP routes: ``register.add(blueprint, url_prefix="/api/my-site")``.

    Contribution hook: all implementations are called.
    Called once per application, before it serves. Synchronous. Blueprints should live under
    ``/api`` and must not reuse a path of the host.
    """


@hookspec
def visa_register_commands(cli: click.Group) -> None:
    """Contribute ``visa`` sub-commands: ``cli.add_command(my_command)``.

    Contribution hook: all implementations are called.
    Called once when the ``visa`` command starts. Synchronous. A command name that is already
    taken is refused and recorded as the plugin's error.
    """


@hookspec
def visa_startup(app: Any) -> Awaitable[None] | None:
    """The application is starting: open clients, warm caches. May be async.

    Contribution hook: all implementations are called; one that raises is logged and start-up
    continues. ``app`` is the Quart application (``app.config["VISA_SETTINGS"]`` holds the
    settings).
    """


@hookspec
def visa_shutdown(app: Any) -> Awaitable[None] | None:
    """The application is stopping: close what ``visa_startup`` opened. May be async.

    Contribution hook: all implementations are called; one that raises is logged.
    """


# ---------------------------------------------------------------------------------------------
# Requests: who is calling
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def visa_authenticate_request(
    credentials: RequestCredentials, session: AsyncSession, runtime: Runtime
) -> Principal | Awaitable[Principal | None] | None:
    """Identify the caller of an HTTP request. First result wins. May be async.

    Return a :class:`~visa_platform.domain.principal.Principal`, or ``None`` when the request
    carries no credentials this plugin understands (the next plugin is asked). Raise
    :class:`~visa_platform.domain.errors.Unavailable` when the credentials cannot be checked now
    (HTTP 503); any other exception is logged and treated as ``None``. If nobody answers, a
    request with an ``Authorization`` header gets 401; one without is anonymous.
    ``session`` is the request's database session; ``runtime`` the application's
    :class:`~visa_platform.runtime.Runtime` (settings, the configured account provider).
    Implemented by authentication plugins (bearer tokens through an account provider, application
    credentials, instance credentials).
    """


# ---------------------------------------------------------------------------------------------
# Instances
# ---------------------------------------------------------------------------------------------


@hookspec
def visa_instance_security_groups(
    query: SecurityGroupQuery, session: AsyncSession
) -> Iterable[str] | Awaitable[Iterable[str] | None] | None:
    """Name the cloud security groups an instance should have. May be async.

    All results are combined.

    The host applies the ordered, de-duplicated union of every answer (``None`` = no opinion).
    Called when an instance is created, by the daily reconciliation and by
    UPDATE_SECURITY_GROUPS (spec/domain.md §5). An implementation that raises is logged and
    contributes nothing. Implemented by the default filter plugin and by site plugins.
    """


@hookspec
def visa_instance_created(event: InstanceEvent) -> Awaitable[None] | None:
    """An instance was created (its row exists; the cloud server may not yet). May be async.

    Event hook: all implementations are called, failures are logged.
    """


@hookspec
def visa_instance_state_changed(
    event: InstanceEvent, previous_state: str
) -> Awaitable[None] | None:
    """An instance changed state from ``previous_state`` to ``event.state``. May be async.

    Event hook: all implementations are called, failures are logged.
    """


@hookspec
def visa_instance_deleted(event: InstanceEvent) -> Awaitable[None] | None:
    """An instance was deleted (soft-deleted in the database, gone from the cloud). May be async.

    Event hook: all implementations are called, failures are logged.
    """


# ---------------------------------------------------------------------------------------------
# Remote-desktop sessions
# ---------------------------------------------------------------------------------------------


@hookspec
def visa_session_opened(event: SessionEvent) -> Awaitable[None] | None:
    """A browser client joined an instance's remote-desktop session. May be async.

    Event hook: all implementations are called, failures are logged.
    """


@hookspec
def visa_session_closed(event: SessionEvent) -> Awaitable[None] | None:
    """A browser client left an instance's remote-desktop session. May be async.

    Event hook: all implementations are called, failures are logged.
    """


# ---------------------------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------------------------


@hookspec
def visa_user_logged_in(event: UserEvent) -> Awaitable[None] | None:
    """A user authenticated (``event.first_login`` is true the first time). May be async.

    Event hook: all implementations are called, failures are logged.
    """
