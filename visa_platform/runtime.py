"""What a running application holds: settings, plugins, and (while serving) the database engine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from visa_platform.accounts.cache import TokenCache
from visa_platform.accounts.contract import AccountProvider
from visa_platform.compute.clients import CloudClients
from visa_platform.config import Settings
from visa_platform.domain.principal import Principal
from visa_platform.events.broker import Broker, LocalBroker
from visa_platform.notifications.dispatcher import NotificationDispatcher
from visa_platform.plugin import PluginHost

EXTENSION_KEY = "visa"


@dataclass
class Runtime:
    """Per-application state, reachable as ``runtime(app)``. Nothing here is per-request."""

    settings: Settings
    plugins: PluginHost
    engine: AsyncEngine | None = None
    sessions: async_sessionmaker[AsyncSession] | None = field(default=None, repr=False)
    account_provider: AccountProvider | None = None
    principal_cache: TokenCache[Principal] = field(default_factory=TokenCache, repr=False)
    #: The event broker: in process until serving, then the one the settings ask for (Redis
    #: with several replicas, VISA_VDI_REDIS_ENABLED).
    broker: Broker = field(default_factory=LocalBroker, repr=False)
    #: This process among the replicas (``serverSpecificUuid`` of the cloud-client sync).
    replica_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: The cloud clients (while serving), built at start-up.
    clouds: CloudClients | None = field(default=None, repr=False)
    #: Where services send emails and other notifications (``notify`` never blocks or raises).
    #: Until the app serves, and when no channel is switched on, it has no channel: nothing is sent.
    notifications: NotificationDispatcher = field(
        default_factory=lambda: NotificationDispatcher({}), repr=False
    )
    #: The job scheduler (while serving, when VISA_SCHEDULER_ENABLED).
    scheduler: Any = field(default=None, repr=False)

    def session(self) -> AsyncSession:
        """A new database session (the caller closes it: ``async with runtime.session() as s``)."""
        if self.sessions is None:
            raise RuntimeError("the application is not serving: no database engine is open")
        return self.sessions()


def runtime(app: Any) -> Runtime:
    """The :class:`Runtime` of a Quart application made by ``create_app``."""
    return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
