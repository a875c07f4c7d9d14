"""GET /api/configuration (anonymous): the ConfigurationDto of spec/api.md §3.1."""

from __future__ import annotations

from typing import Any

import pytest

from visa_platform import __version__
from visa_platform.app import create_app
from visa_platform.config import DEFAULT_KEYBOARD_LAYOUTS
from visa_platform.db.models import Configuration


async def test_defaults_and_every_key(client: Any, db_session: Any) -> None:
    db_session.add_all(
        [Configuration(key="facility", value="ILL"), Configuration(key="motd", value="Hello")]
    )
    await db_session.commit()
    response = await client.get("/api/configuration")
    assert response.status_code == 200
    assert await response.get_json() == {
        "data": {
            "version": __version__,
            "contactEmail": None,
            "login": {
                "issuer": None,
                "clientId": None,
                "scope": "openid offline_access",
                "showDebugInformation": False,
                "sessionChecksEnabled": True,
            },
            "analytics": {"enabled": False, "url": None, "siteId": None},
            "desktop": {
                "allowedClipboardUrlHosts": [],
                "keyboardLayouts": [
                    {"layout": k.layout, "name": k.name, "selected": k.selected}
                    for k in DEFAULT_KEYBOARD_LAYOUTS
                ],
            },
            "experiments": {"openDataIncluded": False},
            "instance": {"publicAccessTokenEnabled": True},
            "metadata": {"facility": "ILL", "motd": "Hello"},
        }
    }


@pytest.fixture
async def configured_client(settings: Any, db_engine: Any) -> Any:
    from visa_platform.config import load_settings

    configured = load_settings(
        database_url=settings.database_url,
        database_schema=settings.database_schema,
        data_dir=settings.data_dir,
        accounts_provider="static",
        accounts_static_allow_postgresql=True,
        client_config_login_issuer="https://sso.example.org/realms/visa",
        client_config_login_client_id="visa-web",
        client_config_analytics_enabled=True,
        client_config_analytics_url="https://matomo.example.org",
        client_config_analytics_site_id="7",
        client_config_desktop_keyboard_layouts=[
            {"layout": "fr-fr-azerty", "name": "French", "selected": True}
        ],
        client_config_desktop_allowed_clipboard_url_hosts=[{"host": "ill.eu", "https": True}],
        client_config_contact_email="visa@example.org",
        client_config_include_open_data=True,
        instance_public_access_token_enabled=False,
    )
    app = create_app(configured)
    async with app.test_app() as running:
        yield running.test_client()


async def test_configured_values(configured_client: Any) -> None:
    data = (await (await configured_client.get("/api/configuration")).get_json())["data"]
    assert data["login"]["issuer"] == "https://sso.example.org/realms/visa"
    assert data["login"]["clientId"] == "visa-web"
    assert data["analytics"] == {"enabled": True, "url": "https://matomo.example.org", "siteId": 7}
    assert data["desktop"] == {
        "allowedClipboardUrlHosts": [{"host": "ill.eu", "https": True}],
        "keyboardLayouts": [{"layout": "fr-fr-azerty", "name": "French", "selected": True}],
    }
    assert data["contactEmail"] == "visa@example.org"
    assert data["experiments"] == {"openDataIncluded": True}
    assert data["instance"] == {"publicAccessTokenEnabled": False}
