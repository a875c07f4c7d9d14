"""The application factory: settings, plugins, database and routes wired into one Quart app."""

from __future__ import annotations

import logging

from quart import Quart
from quart_schema import QuartSchema

from visa_platform import __version__
from visa_platform.allocator import tune_allocator
from visa_platform.api.json import VisaJSONProvider
from visa_platform.config import Settings, load_settings
from visa_platform.db.engine import create_engine, session_factory
from visa_platform.logs import configure_logging
from visa_platform.plugin import PluginHost
from visa_platform.runtime import EXTENSION_KEY, Runtime, runtime

log = logging.getLogger("visa_platform.app")

API_PREFIX = "/api"
#: What stops the cloud-client sync of a serving application (``app.extensions``).
CLOUD_SYNC_KEY = "visa_cloud_sync"


def create_app(settings: Settings | None = None, *, plugins: PluginHost | None = None) -> Quart:
    """Build the application.

    ``settings`` defaults to :func:`~visa_platform.config.load_settings` (the environment);
    ``plugins`` defaults to the entry-point plugins that the settings allow. The database engine
    is opened when the app starts serving and closed when it stops; the schema must already be
    migrated (``visa serve`` does that first).
    """
    settings = settings or load_settings()
    configure_logging(settings.logging_level.python_level())
    # process-wide, for the desktop relay's large frames: Hypercorn's websockets, glibc's malloc
    from visa_platform.api.ws.transport import configure_websockets

    configure_websockets(settings.server_websocket_compression)
    tune_allocator()
    plugins = plugins or PluginHost.from_settings(settings)

    app = Quart("visa_platform")
    app.json = VisaJSONProvider(app)
    app.config["VISA_SETTINGS"] = settings
    app.config["VISA_VERSION"] = __version__
    app.extensions[EXTENSION_KEY] = Runtime(settings=settings, plugins=plugins)

    from visa_platform.api import errors
    from visa_platform.api.auth import authenticate_request
    from visa_platform.api.context import close_db
    from visa_platform.api.graphql.blueprint import blueprint as graphql_blueprint
    from visa_platform.api.rest import BLUEPRINTS
    from visa_platform.api.rest.api_docs import VisaOpenAPIProvider
    from visa_platform.api.ws import gateway

    QuartSchema(
        app,
        openapi_path=f"{API_PREFIX}/openapi.json",
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path=None,  # ours is /api/docs (api/rest/api_docs.py): no CDN
        openapi_provider_class=VisaOpenAPIProvider,
        info={"title": "VISA platform API", "version": __version__},
        security_schemes={
            "bearer": {"type": "http", "scheme": "bearer"},
            "basic": {"type": "http", "scheme": "basic"},
        },
    )
    app.json = VisaJSONProvider(app)  # after QuartSchema, which installs its own provider
    errors.register(app)
    app.before_request(authenticate_request)
    app.teardown_request(close_db)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint, url_prefix=API_PREFIX)
    app.register_blueprint(gateway.blueprint, url_prefix=API_PREFIX)
    app.register_blueprint(graphql_blueprint, url_prefix=API_PREFIX)
    for contribution in plugins.routes():
        app.register_blueprint(contribution.blueprint, url_prefix=contribution.url_prefix)

    app.before_serving(_open)
    app.after_serving(_close)
    return app


async def _open() -> None:
    from quart import current_app

    from visa_platform.accounts import selection as accounts
    from visa_platform.api.graphql.resolvers.clouds import forget_views
    from visa_platform.db.seed import ensure_fixtures
    from visa_platform.desktop.service import open_desktop
    from visa_platform.events.broker import open_broker
    from visa_platform.notifications.dispatcher import NotificationDispatcher
    from visa_platform.notifications.outbox import OutboxStore
    from visa_platform.scheduler.jobs import start_scheduler
    from visa_platform.services.cloud_clients import open_cloud_clients, sync_cloud_clients

    state = runtime(current_app)
    settings = state.settings
    # configuration problems first, before anything is opened
    state.account_provider = accounts.create(settings, state.plugins.account_providers)
    state.engine = create_engine(
        settings.sqlalchemy_url(),
        schema=settings.database_schema,
        # SQLAlchemy closes connections beyond pool_size when they are returned: keep them all
        # (VISA_DATABASE_MAX_POOL_SIZE), or every busy moment reconnects.
        pool_size=settings.database_max_pool_size,
        max_overflow=0,
        sqlite_immediate=True,
    )
    state.sessions = session_factory(state.engine)
    try:
        if settings.vdi_redis_enabled:  # several replicas: events and messages go via Redis
            state.broker = await open_broker(settings)
        await ensure_fixtures(state.sessions)
        state.clouds = await open_cloud_clients(
            settings, state.plugins.compute_backends, state.sessions
        )
        # a cloud changed through another replica is rebuilt here too
        current_app.extensions[CLOUD_SYNC_KEY] = sync_cloud_clients(state, forget_views)
        state.notifications = NotificationDispatcher.from_plugins(
            settings, state.plugins, store=OutboxStore(state.sessions)
        )
        await state.notifications.start()
        if settings.vdi_enabled:
            await open_desktop(current_app, state)
    except BaseException:
        await _close()
        raise
    await state.plugins.startup(current_app)
    if settings.scheduler_enabled:
        state.scheduler = start_scheduler(state)
    log.info("event=app_started version=%s", __version__)


async def _close() -> None:
    from quart import current_app

    from visa_platform.desktop.service import close_desktop
    from visa_platform.events.broker import LocalBroker

    state = runtime(current_app)
    await close_desktop(current_app)  # desktop clients leave while the database is open
    if state.scheduler is not None:
        await state.scheduler.stop()
        state.scheduler = None
    await state.plugins.shutdown(current_app)
    # pending deliveries stay in the outbox table for the next process
    await state.notifications.aclose()
    stop_cloud_sync = current_app.extensions.pop(CLOUD_SYNC_KEY, None)
    if stop_cloud_sync is not None:
        stop_cloud_sync()
    if state.settings.vdi_redis_enabled:  # the Redis broker _open made for this serving run
        broker, state.broker = state.broker, LocalBroker()
        await broker.aclose()
    if state.clouds is not None:
        await state.clouds.close()
        state.clouds = None
    if state.account_provider is not None:
        await state.account_provider.aclose()
        state.account_provider = None
    state.principal_cache.clear()
    if state.engine is not None:
        await state.engine.dispose()
    state.engine = None
    state.sessions = None
