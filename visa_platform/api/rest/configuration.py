"""``GET /api/configuration``: what the portal needs before login (anonymous)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, current_app
from quart_schema import document_response
from sqlalchemy import select

from visa_platform.api.context import db, state
from visa_platform.api.rest.envelope import envelope
from visa_platform.api.rest.schemas import ClientConfiguration, Envelope
from visa_platform.db.models import Configuration

blueprint = Blueprint("configuration", __name__)


@blueprint.get("/configuration")
@document_response(Envelope[ClientConfiguration])
async def configuration() -> dict[str, Any]:
    """Login (OIDC) settings, analytics, desktop options, feature switches and site metadata."""
    settings = state().settings
    rows = await db().execute(
        select(Configuration.key, Configuration.value).order_by(Configuration.id)
    )
    site_id = settings.client_config_analytics_site_id
    return envelope(
        {
            "version": current_app.config["VISA_VERSION"],
            "contactEmail": settings.client_config_contact_email,
            "login": {
                "issuer": settings.client_config_login_issuer,
                "clientId": settings.client_config_login_client_id,
                "scope": settings.client_config_login_scope,
                "showDebugInformation": settings.client_config_login_show_debug_information,
                "sessionChecksEnabled": settings.client_config_login_session_checks_enabled,
            },
            "analytics": {
                "enabled": settings.client_config_analytics_enabled,
                "url": settings.client_config_analytics_url,
                "siteId": int(site_id) if site_id and site_id.isdigit() else None,
            },
            "desktop": {
                "allowedClipboardUrlHosts": [
                    {"host": h.host, "https": h.https}
                    for h in settings.client_config_desktop_allowed_clipboard_url_hosts
                ],
                "keyboardLayouts": [
                    {"layout": k.layout, "name": k.name, "selected": k.selected}
                    for k in settings.client_config_desktop_keyboard_layouts
                ],
            },
            "experiments": {"openDataIncluded": settings.client_config_include_open_data},
            "instance": {"publicAccessTokenEnabled": settings.instance_public_access_token_enabled},
            "metadata": {key: value for key, value in rows},
        }
    )
