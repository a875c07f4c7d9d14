"""End to end in headless Chromium: the portal page opens a Guacamole desktop.

Our server (Hypercorn on 127.0.0.1) serves the portal page; the page loads guacamole-common-js
(from the npm registry, as the portal installs it) and opens the instance's ``guacamole``
desktop socket; the relay talks to the fake guacd, which shows a real X desktop (Xvfb + x11vnc)
as guacd's VNC plugin would. Checked: the page shows that desktop's pixels, a mouse move in the
browser moves the X pointer, the page uploads thumbnails only when they change, and what is typed
in the browser reaches a terminal on the desktop.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import playwright.async_api as playwright_api
import pytest

from visa_platform.app import create_app
from visa_platform.config import load_settings
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.runtime import runtime
from visa_platform.services import thumbnails
from visa_platform.testing.accounts import StaticAccounts, bearer
from visa_platform.testing.databases import TestDatabase
from visa_platform.testing.desktops import add_desktop_instance, chromium_context
from visa_platform.testing.fake_guacd import FakeGuacd
from visa_platform.testing.servers import serve_asgi
from visa_platform.testing.system import needs
from visa_platform.testing.xdesktop import XDesktop, window_args
from visa_portal import guacamole_js

pytestmark = needs(
    "chromium",
    "Xvfb",
    "x11vnc",
    "xdotool",
    "xterm",
    packages="chromium xvfb x11vnc xdotool xterm",
)
WIDTH, HEIGHT = 1024, 768
PINK, GREEN, BLUE, BLACK = (0xD0, 0x20, 0x90), (0x20, 0xB0, 0x40), (0x20, 0x40, 0xD0), (0, 0, 0)
#: Desktop points and the colour each must show (windows drawn with xterm, root window black).
EXPECTED = [((150, 110), PINK), ((650, 430), GREEN), ((900, 120), BLACK), ((400, 650), BLACK)]
#: A terminal at (100, 500) (about 130 x 60 pixels) whose shell writes the line typed into it to
#: ``typed.txt`` in the test's directory.
SHELL = ("xterm", "-title", "shell", "-geometry", "20x4+100+500", "-e", "sh", "-c")
#: Pixels of a PNG screenshot at desktop points, decoded by the browser itself.
PIXELS_JS = """async ([png, points]) => {
  const image = new Image();
  image.src = 'data:image/png;base64,' + png;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  return points.map(([x, y]) => Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3)));
}"""


@pytest.fixture
def db_backend() -> str:
    """One database is enough here: the relay's rows are tested on both elsewhere."""
    return "sqlite"


@pytest.fixture
async def desktop(tmp_path: Path) -> AsyncIterator[XDesktop]:
    async with XDesktop(width=WIDTH, height=HEIGHT) as desktop:
        await desktop.spawn(*window_args(title="pink", colour="#d02090", x=100, y=80))
        await desktop.spawn(*window_args(title="green", colour="#20b040", x=600, y=400))
        await desktop.spawn(*SHELL, f'read line; echo "$line" > {tmp_path / "typed.txt"}')
        for title in ("pink", "green", "shell"):
            await desktop.wait_for_window(title)
        yield desktop


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path, desktop: XDesktop) -> Any:
    """guacd (the fake) shows the VNC server at the instance's address and x11vnc's port."""
    return load_settings(
        database_url=test_database.url,
        database_schema=test_database.schema,
        data_dir=tmp_path / "data",
        accounts_provider="static",
        scheduler_enabled=False,
        vdi_guacd_parameter_protocol="vnc",
        vdi_guacd_parameter_port=desktop.port,
    )


async def guacd_instance(app: Any, guacd: FakeGuacd, owner: str) -> str:
    """An ACTIVE instance at 127.0.0.1 whose desktop protocol is GUACD (the fake's port)."""
    async with runtime(app).session() as db:
        instance = await add_desktop_instance(
            db,
            protocol="GUACD",
            port=guacd.port,
            people={owner: ("Ada", "Lovelace")},
            members={owner: InstanceMemberRole.OWNER},
            uid="guac0001",
            name="guacamole desktop",
            screen=(WIDTH, HEIGHT),
            vdi_protocol=True,
        )
        return instance.uid


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a baseline or progressive JPEG's frame header."""
    pos = 2
    while pos < len(data):
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    raise AssertionError("no JPEG frame header")


def close_to(a: list[int] | tuple[int, ...], b: tuple[int, int, int]) -> bool:
    return all(abs(x - y) <= 12 for x, y in zip(a, b, strict=True))


async def test_a_guacamole_desktop_in_the_browser(
    settings: Any, db_engine: Any, desktop: XDesktop, tmp_path: Path
) -> None:
    await guacamole_js.PACKAGE.install(settings.data_dir)  # from the npm registry, as the page
    token = StaticAccounts(settings).add("1001", first_name="Ada", last_name="Lovelace")
    timings: dict[str, float] = {}
    async with FakeGuacd(vnc_backed=True) as guacd:
        app = create_app(settings)
        async with serve_asgi(app) as base:
            uid = await guacd_instance(app, guacd, "1001")
            async with playwright_api.async_playwright() as playwright:
                context = await chromium_context(playwright, tmp_path / "chromium")
                try:
                    page = context.pages[0] if context.pages else await context.new_page()
                    errors: list[str] = []
                    page.on("pageerror", lambda error: errors.append(str(error)))
                    await desktop_session(page, base, token, uid, desktop, guacd, timings, tmp_path)
                    assert errors == []
                finally:
                    await context.close()
            async with httpx.AsyncClient(base_url=base) as http:
                answer = await http.get(
                    f"/api/account/instances/{uid}/thumbnail", headers=bearer(token)
                )
            assert answer.headers["content-type"] == "image/jpeg"
            assert (
                answer.content.startswith(b"\xff\xd8")
                and answer.content != thumbnails.placeholder()
            )
            assert jpeg_size(answer.content) == (320, 240)  # 320 px wide, the desktop's ratio
            await guacd.wait_until(lambda g: not g.connections and g.open_sockets == 0)
    print("\n" + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items()))


async def desktop_session(
    page: Any,
    base: str,
    token: str,
    uid: str,
    desktop: XDesktop,
    guacd: FakeGuacd,
    timings: dict[str, float],
    tmp_path: Path,
) -> None:
    # thumbnails after 1 s and every 1 s (10 s and 60 s by default)
    await page.goto(base + "/?thumbnail-after=1&thumbnail-every=1")
    await page.get_by_label("Access token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("Signed in as Ada Lovelace").wait_for()
    row = page.locator(f'#instance-rows tr[data-uid="{uid}"][data-state="ACTIVE"]')
    started = time.monotonic()
    await row.get_by_role("button", name="Open desktop").click()
    await page.wait_for_function("window.__visaDesktopConnected === true", timeout=15_000)
    timings["open to connected"] = time.monotonic() - started
    connection = await guacd.wait_for_connection()
    assert connection.parameters["hostname"] == "127.0.0.1"
    assert connection.parameters["port"] == str(desktop.port)
    assert connection.rfb is not None  # the real desktop, not a generated frame

    # the screenshot shows the X desktop: each window's colour where it is, black elsewhere
    screen = page.locator("#screen")
    box = await screen.bounding_box()
    scale = min(box["width"] / WIDTH, box["height"] / HEIGHT)
    points = [[int(x * scale), int(y * scale)] for (x, y), _ in EXPECTED]
    seen: list[list[int]] = []
    for _ in range(100):
        shot = await screen.screenshot()
        seen = await page.evaluate(PIXELS_JS, [base64.b64encode(shot).decode(), points])
        if all(close_to(pixel, colour) for pixel, (_, colour) in zip(seen, EXPECTED, strict=True)):
            break
        await asyncio.sleep(0.1)
    else:
        (tmp_path / "desktop.png").write_bytes(shot)
        raise AssertionError(f"the page does not show the desktop: {seen}")
    timings["open to desktop shown"] = time.monotonic() - started

    # a mouse move in the browser moves the X pointer (desktop coordinates)
    target = (700, 500)
    await page.mouse.move(box["x"] + target[0] * scale + 0.5, box["y"] + target[1] * scale + 0.5)
    location = (0, 0)
    for _ in range(100):
        location = await desktop.mouse_location()
        if all(abs(a - b) <= 2 for a, b in zip(location, target, strict=True)):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the X pointer is at {location}, not near {target}")
    assert "mouse" in connection.opcodes()

    # thumbnails: the first one is uploaded; an unchanged desktop is not uploaded again
    await page.wait_for_function("window.__visaThumbnails.uploaded === 1", timeout=10_000)
    await page.wait_for_function("window.__visaThumbnails.captured >= 3", timeout=10_000)
    assert await page.evaluate("window.__visaThumbnails.uploaded") == 1
    # ... and a changed one is
    await desktop.spawn(*window_args(title="blue", colour="#2040d0", x=300, y=300))
    await page.wait_for_function("window.__visaThumbnails.uploaded === 2", timeout=10_000)

    # the keyboard: typed into the terminal (X focus follows the pointer: no window manager)
    await page.mouse.click(box["x"] + 150 * scale, box["y"] + 530 * scale)
    await page.keyboard.type("typed-through-guacamole", delay=10)
    await page.keyboard.press("Enter")
    typed = tmp_path / "typed.txt"
    for _ in range(100):
        if typed.exists() and typed.read_text() == "typed-through-guacamole\n":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("what was typed in the browser never reached the desktop")
    assert "key" in connection.opcodes()
    timings["whole session"] = time.monotonic() - started

    await page.get_by_role("button", name="Back to my instances").click()
