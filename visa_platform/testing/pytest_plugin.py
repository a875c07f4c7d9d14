"""pytest plugin shipped with visa-platform (registered through the ``pytest11`` entry point).

Fixtures, each run once per database backend (SQLite and PostgreSQL; choose with
``VISA_TEST_DATABASES=sqlite`` or ``=postgresql``, point at a server with ``VISA_TEST_PG_URL``):

``test_database``  an empty, isolated database (a ``testing.databases.TestDatabase``)
``db_engine``      an ``AsyncEngine`` on it with every table created (no rows)
``db_session``     an ``AsyncSession`` on ``db_engine``
``settings``       :class:`~visa_platform.config.Settings` pointing at that database (scheduler
                   off: tests run jobs themselves)
``app``            the Quart application for ``settings``, started (lifespan run) with
                   ``app.test_app()``; roles and protocols are seeded at start-up
``client``         the Quart test client of ``app``
``accounts``       users of the ``static`` account provider: ``accounts.add("1001", roles=[...])``
                   returns a bearer token; ``accounts.admin_token`` is the administrator's
``plugin_site``    installs throwaway plugin distributions with real entry points
``fake_accounts``  a fake VISA accounts service over HTTP (``fake_accounts.url``)
``fake_oidc``      a fake OIDC issuer (discovery, JWKS, ``fake_oidc.issue(claims)``)
``fake_openstack`` a fake OpenStack (Keystone, Nova, Glance, Neutron) over HTTP, with fault switches
``fake_webcloud``  a fake of VISA's web cloud provider contract over HTTP
``fake_kubernetes`` a fake Kubernetes API server (core/v1, NetworkPolicies, watch, a kubelet)
``smtp_server``    a real SMTP server (aiosmtpd) recording what it receives (``.messages``)
``fake_guacd``     a fake guacd speaking the Guacamole protocol on 127.0.0.1 (``fake_guacd.port``)
``fake_webx``      a fake WebX Router and engine over ZeroMQ on 127.0.0.1 (``fake_webx.port``)

Override ``settings`` in a ``conftest.py`` to change configuration for a group of tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from visa_platform.testing.databases import (
    TestDatabase,
    engine_for,
    selected_backends,
    temporary_database,
)


@pytest.fixture(params=selected_backends())
def db_backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: ``sqlite`` or ``postgresql``."""
    return str(request.param)


@pytest.fixture
async def test_database(db_backend: str, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    async with temporary_database(db_backend, tmp_path) as db:
        yield db


@pytest.fixture
async def db_engine(test_database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    from visa_platform.db.schema import create_all

    engine = engine_for(test_database)
    try:
        await create_all(engine)
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def db_session(db_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    from visa_platform.db.engine import session_factory

    async with session_factory(db_engine)() as session:
        yield session


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path) -> Any:
    from visa_platform.config import load_settings

    return load_settings(
        database_url=test_database.url,
        database_schema=test_database.schema,
        data_dir=tmp_path / "data",
        accounts_provider="static",
        accounts_static_allow_postgresql=True,
        # tests drive jobs themselves (visa_platform.scheduler); none run in the background
        scheduler_enabled=False,
    )


@pytest.fixture
async def app(settings: Any, db_engine: AsyncEngine) -> AsyncIterator[Any]:
    from visa_platform.app import create_app

    application = create_app(settings)
    async with application.test_app() as test_app:
        yield test_app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def accounts(settings: Any) -> Any:
    """:class:`~visa_platform.testing.accounts.StaticAccounts` for ``settings``."""
    from visa_platform.testing.accounts import StaticAccounts

    return StaticAccounts(settings)


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A :class:`~visa_platform.testing.plugins.PluginSite` on ``sys.path`` for this test."""
    from visa_platform.testing.plugins import PluginSite

    site = PluginSite(tmp_path / "site-packages")
    monkeypatch.syspath_prepend(str(site.root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # stevedore's scan cache
    yield site
    site.forget_modules()


@pytest.fixture
async def fake_accounts() -> Any:
    """A running :class:`~visa_platform.testing.fake_accounts.FakeAccountsService`."""
    from visa_platform.testing.fake_accounts import FakeAccountsService

    async with FakeAccountsService().running() as service:
        yield service


@pytest.fixture
async def fake_openstack() -> Any:
    """A running :class:`~visa_platform.testing.fake_openstack.FakeOpenStack` on 127.0.0.1."""
    from visa_platform.testing.fake_openstack import FakeOpenStack

    async with FakeOpenStack() as cloud:
        yield cloud


@pytest.fixture
async def fake_webcloud() -> Any:
    """A running :class:`~visa_platform.testing.fake_webcloud.FakeWebCloud` on 127.0.0.1."""
    from visa_platform.testing.fake_webcloud import FakeWebCloud

    async with FakeWebCloud() as cloud:
        yield cloud


@pytest.fixture
async def fake_kubernetes() -> Any:
    """A running :class:`~visa_platform.testing.fake_kubernetes.FakeKubernetes` on 127.0.0.1."""
    from visa_platform.testing.fake_kubernetes import FakeKubernetes

    async with FakeKubernetes() as cluster:
        yield cluster


@pytest.fixture
async def fake_oidc() -> Any:
    """A running :class:`~visa_platform.testing.fake_oidc.FakeOidcIssuer`."""
    from visa_platform.testing.fake_oidc import FakeOidcIssuer

    async with FakeOidcIssuer().running() as issuer:
        yield issuer


@pytest.fixture
async def smtp_server() -> Any:
    """A running :class:`~visa_platform.testing.smtp.SmtpServer` (aiosmtpd) on 127.0.0.1."""
    from visa_platform.testing.smtp import SmtpServer

    server = SmtpServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def fake_guacd() -> Any:
    """A running :class:`~visa_platform.testing.fake_guacd.FakeGuacd` on 127.0.0.1."""
    from visa_platform.testing.fake_guacd import FakeGuacd

    async with FakeGuacd() as guacd:
        yield guacd


@pytest.fixture
async def fake_webx() -> Any:
    """A running :class:`~visa_platform.testing.fake_webx.FakeWebX` on 127.0.0.1."""
    from visa_platform.testing.fake_webx import FakeWebX

    async with FakeWebX() as webx:
        yield webx
