"""End to end in headless Chromium, on the embedded defaults of ``visa serve``.

Sign in on the portal page, create an instance, wait for it to become ACTIVE (a real TigerVNC
desktop on this host), open the desktop with noVNC through the ``vnc`` relay, see the session's
window (xterm) on the canvas, type a command into it and find what it wrote; the page uploads the
desktop's thumbnail (a 320-px-wide JPEG), which the REST API then serves.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import playwright.async_api as playwright_api

from visa_local.backend import purge_directory
from visa_platform.accounts.static import ensure_token_file
from visa_platform.services import thumbnails
from visa_platform.testing.desktops import chromium_context
from visa_platform.testing.servers import free_port
from visa_platform.testing.system import needs
from visa_portal import novnc

pytestmark = needs("chromium", "Xtigervnc", packages="chromium tigervnc-standalone-server")
#: Fraction of the desktop canvas that is xterm's white background once its window is mapped.
WHITE_SHARE_JS = """() => {
  const canvas = document.querySelector('#screen canvas');
  if (!canvas || !canvas.width) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let white = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] > 240 && data[i + 1] > 240 && data[i + 2] > 240) white++;
  }
  return white / (data.length / 4);
}"""


async def start_server(data: Path, port: int, log: Any) -> asyncio.subprocess.Process:
    """The README's ``visa serve``, on its embedded defaults, in ``data``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISA_")}
    env.update(
        VISA_DATA_DIR=str(data),
        VISA_SERVER_HOST="127.0.0.1",
        VISA_INSTANCE_PORT_CHECK_TIMEOUT_MS="500",
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "visa_platform.cli.main",
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


async def wait_healthy(base: str, server: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        for _ in range(300):
            assert server.returncode is None, "visa serve exited"
            try:
                if (await client.get("/api/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("visa serve did not answer")


async def test_a_desktop_in_the_browser(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    token = ensure_token_file(data / "accounts.toml")
    assert token is not None
    await novnc.install(data)  # from the npm registry, as the page would on first use
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (data / "server.log").open("wb")
    server = await start_server(data, port, log)
    timings: dict[str, float] = {}
    try:
        await wait_healthy(base, server)
        async with playwright_api.async_playwright() as playwright:
            context = await chromium_context(playwright, tmp_path / "chromium")
            try:
                page = context.pages[0] if context.pages else await context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                await desktop_session(page, base, token, data, timings)
                assert errors == []
            finally:
                await context.close()
    except BaseException:
        print((data / "server.log").read_text(errors="replace")[-4000:])
        raise
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), 30)
        log.close()
        await purge_directory(data / "clouds" / "default")  # desktops outlive the server
    assert server.returncode == 0
    print("\n" + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items()))


async def desktop_session(
    page: Any, base: str, token: str, data: Path, timings: dict[str, float]
) -> None:
    # thumbnails after 1 s and every 1 s (10 s and 60 s by default)
    await page.goto(base + "/?thumbnail-after=1&thumbnail-every=1")
    await page.get_by_label("Access token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("Signed in as VISA Administrator").wait_for()
    await page.locator("#new-plan option").first.wait_for(state="attached")  # plans loaded

    await page.get_by_label("Name").fill("browser desktop")
    started = time.monotonic()
    await page.get_by_role("button", name="Create").click()
    row = page.locator("#instance-rows tr", has_text="browser desktop")
    await row.wait_for()
    await page.locator('#instance-rows tr[data-state="ACTIVE"]').wait_for(timeout=90_000)
    timings["create to ACTIVE"] = time.monotonic() - started

    opened = time.monotonic()
    await row.get_by_role("button", name="Open desktop").click()
    await page.wait_for_function("window.__visaDesktopConnected === true", timeout=30_000)
    await page.wait_for_function(f"({WHITE_SHARE_JS})() > 0.05", timeout=30_000)
    timings["open to first frame"] = time.monotonic() - opened
    shot = await page.locator("#screen").screenshot()
    (data / "desktop.png").write_bytes(shot)

    # type into the terminal through noVNC; the shell writes the proof into the instance's home.
    # No window manager: X keyboard focus follows the pointer, so click inside xterm (top left).
    await page.locator("#screen canvas").click(position={"x": 40, "y": 40})
    await page.keyboard.type("echo typed-through-novnc > proof.txt", delay=20)
    await page.keyboard.press("Enter")
    proofs = data / "clouds" / "default"
    for _ in range(100):
        found = list(proofs.glob("*/home/proof.txt"))
        if found and found[0].read_text().strip() == "typed-through-novnc":
            break
        await asyncio.sleep(0.1)
    else:
        (data / "typed.png").write_bytes(await page.locator("#screen").screenshot())
        raise AssertionError("the typed command never ran on the desktop")

    # the owner's page uploaded a thumbnail of the noVNC canvas: the API serves it, not the
    # placeholder
    await page.wait_for_function("window.__visaThumbnails.uploaded >= 1", timeout=10_000)
    uid = await row.get_attribute("data-uid")
    async with httpx.AsyncClient(base_url=base) as http:
        answer = await http.get(
            f"/api/account/instances/{uid}/thumbnail", headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.content.startswith(b"\xff\xd8") and answer.content != thumbnails.placeholder()

    await page.get_by_role("button", name="Back to my instances").click()
    await row.get_by_role("button", name="Delete").click()
    await page.locator("#no-instances").wait_for(timeout=90_000)
