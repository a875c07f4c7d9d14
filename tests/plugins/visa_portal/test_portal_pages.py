"""The portal page and its assets, and noVNC's installer (no browser here)."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from visa_platform.testing.fakehttp import FakeHttpServer, FakeResponse
from visa_portal import guacamole_js, novnc


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def integrity(content: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(content).digest()).decode()


PACKAGE = tarball(
    {
        "package/core/rfb.js": b"export default class RFB {}\n",
        "package/vendor/pako/lib/zlib/inflate.js": b"// pako\n",
        "package/package.json": b"{}",
        "package/app/ui.js": b"// not served",
    }
)


@pytest.fixture
async def registry() -> Any:
    server = FakeHttpServer()

    async def tgz(request: Any) -> FakeResponse:
        return FakeResponse(200, PACKAGE, {"content-type": "application/octet-stream"})

    server.add_route("GET", r"/novnc\.tgz", tgz)
    await server.start()
    yield server
    await server.stop()


async def test_install_checks_integrity_and_unpacks_only_what_the_page_uses(
    registry: Any, tmp_path: Path
) -> None:
    url = f"{registry.url}/novnc.tgz"
    with pytest.raises(novnc.InstallError, match="does not match its sha512 integrity"):
        await novnc.install(tmp_path, url=url, integrity=integrity(b"something else"))
    assert not novnc.installed(tmp_path)

    target = await novnc.install(tmp_path, url=url, integrity=integrity(PACKAGE))
    assert novnc.installed(tmp_path)
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*.js")) == [
        "core/rfb.js",
        "vendor/pako/lib/zlib/inflate.js",
    ]
    requests = len(registry.requests)
    await novnc.install(tmp_path, url=url, integrity=integrity(PACKAGE))
    assert len(registry.requests) == requests  # installed: nothing downloaded again


async def test_an_unreachable_registry_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(novnc.InstallError, match=r"cannot download http://127\.0\.0\.1:9/"):
        await novnc.install(tmp_path, url="http://127.0.0.1:9/novnc.tgz", within=2)


async def test_the_page_and_its_assets(client: Any, settings: Any) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    html = await page.get_data(as_text=True)
    assert '<script type="module" src="/portal/portal.js">' in html
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]

    script = await client.get("/portal/portal.js")
    assert script.content_type.startswith("text/javascript")
    assert "/api/ws/vdi/" in await script.get_data(as_text=True)
    assert (await client.get("/portal/nothing.js")).status_code == 404


async def test_novnc_is_served_from_the_data_directory_only(client: Any, settings: Any) -> None:
    directory = novnc.directory(settings.data_dir)
    (directory / "core").mkdir(parents=True)
    (directory / "core" / "rfb.js").write_text("export default class RFB {}\n")
    (Path(settings.data_dir) / "secret.txt").write_text("not for the web")

    served = await client.get("/portal/novnc/core/rfb.js")
    assert served.status_code == 200
    assert served.content_type.startswith("text/javascript")
    for path in ("/portal/novnc/../../secret.txt", "/portal/novnc/%2e%2e/%2e%2e/secret.txt"):
        assert (await client.get(path)).status_code == 404


async def test_guacamole_common_js_is_served_from_the_data_directory_only(
    client: Any, settings: Any
) -> None:
    module = guacamole_js.PACKAGE.directory(settings.data_dir) / guacamole_js.MODULE
    module.parent.mkdir(parents=True)
    module.write_text("var Guacamole = {};\nexport default Guacamole;\n")
    served = await client.get("/portal/guacamole/" + guacamole_js.MODULE)
    assert served.status_code == 200
    assert served.content_type.startswith("text/javascript")
    assert "script-src 'self'" in served.headers["Content-Security-Policy"]
    for path in ("/portal/guacamole/../../accounts.toml", "/portal/guacamole/%2e%2e/x"):
        assert (await client.get(path)).status_code == 404


async def test_status_says_which_viewers_are_installed(client: Any, settings: Any) -> None:
    for package in (novnc.PACKAGE, guacamole_js.PACKAGE):
        marker = package.directory(settings.data_dir) / package.marker
        marker.parent.mkdir(parents=True)
        marker.write_text("// installed\n")
    status = await (await client.get("/portal/status")).get_json()
    assert status == {
        "novnc": True,
        "version": novnc.VERSION,
        "guacamole": True,
        "guacamoleVersion": guacamole_js.VERSION,
    }


def test_the_pinned_packages_are_the_registry_tarballs() -> None:
    assert novnc.TARBALL == "https://registry.npmjs.org/@novnc/novnc/-/novnc-1.7.0.tgz"
    assert guacamole_js.PACKAGE.tarball == (
        "https://registry.npmjs.org/guacamole-common-js/-/guacamole-common-js-1.5.0.tgz"
    )
    assert guacamole_js.INTEGRITY.startswith("sha512-")
