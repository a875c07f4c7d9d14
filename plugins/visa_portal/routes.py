"""The portal's pages: ``/`` (the page), ``/portal/<asset>``, and the desktop viewers'
files: ``/portal/novnc/<path>`` (noVNC) and ``/portal/guacamole/<path>`` (guacamole-common-js).

Everything is served from this package and the data directory, with a Content-Security-Policy
that lets the page talk only to this server (its REST API and desktop websockets).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from importlib import resources
from pathlib import Path

from quart import Blueprint, Response, current_app, jsonify, send_from_directory

from visa_portal import guacamole_js, novnc
from visa_portal.npm import InstallError, NpmPackage

log = logging.getLogger("visa_portal")

blueprint = Blueprint("visa_portal", __name__)

ASSETS = {
    "portal.js": "text/javascript; charset=utf-8",
    "portal.css": "text/css; charset=utf-8",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)

#: The desktop viewers, by the name ``/portal/status`` and the file routes use.
VIEWERS: dict[str, NpmPackage] = {
    "novnc": novnc.PACKAGE,
    "guacamole": guacamole_js.PACKAGE,
}

_installing: dict[str, asyncio.Task[None]] = {}


async def cancel_install() -> None:
    """Stop the installations still running (the server is stopping)."""
    for name in list(_installing):
        task = _installing.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _static(name: str) -> bytes:
    return resources.files("visa_portal").joinpath("static", name).read_bytes()


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _data_dir() -> Path:
    return Path(current_app.config["VISA_SETTINGS"].data_dir)


def ensure_viewer(name: str) -> None:
    """Start installing a viewer in the background, once per process, if it is missing."""
    package = VIEWERS[name]
    if package.installed(_data_dir()) or name in _installing:
        return

    async def run(data_dir: Path) -> None:
        try:
            await package.install(data_dir)
        except InstallError as exc:
            log.warning("event=viewer_not_installed viewer=%s error=%r", name, str(exc))
        finally:
            _installing.pop(name, None)

    _installing[name] = asyncio.get_running_loop().create_task(run(_data_dir()))


@blueprint.get("/")
async def page() -> Response:
    """The portal page (it asks ``/portal/status``, which fetches the desktop viewer)."""
    return _secured(Response(_static("index.html"), content_type="text/html; charset=utf-8"))


@blueprint.get("/portal/<name>")
async def asset(name: str) -> Response:
    if name not in ASSETS:
        return Response("not found", status=404)
    return _secured(Response(_static(name), content_type=ASSETS[name]))


@blueprint.get("/portal/status")
async def status() -> Response:
    """Whether the desktop viewers are installed (the page waits for them); starts what is
    missing. ``{"novnc": bool, "version": str, "guacamole": bool, "guacamoleVersion": str}``."""
    ready = {}
    for name, package in VIEWERS.items():
        ready[name] = package.installed(_data_dir())
        if not ready[name]:
            ensure_viewer(name)
    return jsonify(
        {
            "novnc": ready["novnc"],
            "version": novnc.VERSION,
            "guacamole": ready["guacamole"],
            "guacamoleVersion": guacamole_js.VERSION,
        }
    )


async def _viewer_file(viewer: str, name: str) -> Response:
    directory = VIEWERS[viewer].directory(_data_dir())
    response = await send_from_directory(directory, name)
    if name.endswith(".js"):
        response.content_type = "text/javascript; charset=utf-8"
    return _secured(response)


@blueprint.get("/portal/novnc/<path:name>")
async def novnc_file(name: str) -> Response:
    return await _viewer_file("novnc", name)


@blueprint.get("/portal/guacamole/<path:name>")
async def guacamole_file(name: str) -> Response:
    return await _viewer_file("guacamole", name)
