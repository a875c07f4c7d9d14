"""A real X desktop for tests: Xvfb on a free display, shared over VNC by x11vnc on 127.0.0.1.

``async with XDesktop(width=800, height=600) as desktop:`` starts ``Xvfb -displayfd`` (the X
server picks a free display itself) and ``x11vnc -localhost -rfbport <free port> -forever
-shared`` (``-nopw``, or ``-passwd`` when a password is given), and stops both, with every
program started through :meth:`XDesktop.spawn`, on the way out. Needs the Debian packages
``xvfb`` and ``x11vnc`` (``xdotool`` for :meth:`mouse_location`, ``xterm`` for windows).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import tempfile
from typing import Any

from visa_platform.testing.servers import free_port


class XDesktopError(RuntimeError):
    """Xvfb or x11vnc did not start."""


class XDesktop:
    def __init__(
        self, *, width: int = 1024, height: int = 768, password: str | None = None
    ) -> None:
        self.width = width
        self.height = height
        self.password = password
        self.host = "127.0.0.1"
        self.display = ""
        self.port = 0
        self._xvfb: asyncio.subprocess.Process | None = None
        self._vnc: asyncio.subprocess.Process | None = None
        self._spawned: list[asyncio.subprocess.Process] = []
        self._vnc_log: Any = None
        self._displayfd = -1

    async def __aenter__(self) -> XDesktop:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def env(self) -> dict[str, str]:
        """The environment of an X client of this display."""
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "XAUTHORITY")}
        env["DISPLAY"] = self.display
        return env

    async def start(self, within: float = 10.0) -> None:
        read_end, write_end = os.pipe()
        try:
            self._xvfb = await asyncio.create_subprocess_exec(
                "Xvfb",
                "-displayfd",
                str(write_end),
                "-screen",
                "0",
                f"{self.width}x{self.height}x24",
                "-nolisten",
                "tcp",
                "-br",  # a black root window, not the stipple
                pass_fds=(write_end,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            os.close(write_end)
            write_end = -1
            number = await asyncio.wait_for(asyncio.to_thread(os.read, read_end, 32), within)
        finally:
            # Xvfb needs the other end open while it runs: with it closed, x11vnc's
            # XOpenDisplay fails (found the hard way); closed in stop()
            self._displayfd = read_end
            if write_end >= 0:
                os.close(write_end)
        if not number.strip().isdigit():
            raise XDesktopError("Xvfb did not start")
        self.display = f":{int(number)}"
        self.port = free_port()
        auth = ["-passwd", self.password] if self.password else ["-nopw"]
        self._vnc_log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self._vnc = await asyncio.create_subprocess_exec(
            "x11vnc",
            "-display",
            self.display,
            "-rfbport",
            str(self.port),
            "-localhost",
            "-listen",
            self.host,
            *auth,
            "-forever",
            "-shared",
            "-quiet",
            "-noxdamage",
            "-nocursor",  # pixels stay the desktop's own (the cursor is the browser's)
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._vnc_log,
            env=self.env,
        )
        deadline = asyncio.get_running_loop().time() + within
        while True:
            if self._vnc.returncode is not None:
                self._vnc_log.seek(0)
                said = self._vnc_log.read().decode(errors="replace")[:1500]
                raise XDesktopError(f"x11vnc exited with {self._vnc.returncode}: {said}")
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                if asyncio.get_running_loop().time() > deadline:
                    raise XDesktopError(f"x11vnc is not listening on {self.port}") from None
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return

    async def spawn(self, *argv: str) -> asyncio.subprocess.Process:
        """Start an X client on the display (stopped with the desktop)."""
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._spawned.append(process)
        return process

    async def run(self, *argv: str, within: float = 10.0) -> str:
        """Run an X client to its end; its standard output."""
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), within)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            raise XDesktopError(f"{argv[0]} failed: {err.decode(errors='replace')}")
        return out.decode()

    async def mouse_location(self) -> tuple[int, int]:
        """Where the X pointer is (``xdotool getmouselocation``)."""
        fields = dict(
            item.split(":", 1)
            for item in (await self.run("xdotool", "getmouselocation")).split()
            if ":" in item
        )
        return int(fields["x"]), int(fields["y"])

    async def wait_for_window(self, name: str, within: float = 10.0) -> None:
        """Wait until a window called ``name`` is mapped (``xdotool search --sync``)."""
        await self.run(
            "xdotool", "search", "--sync", "--onlyvisible", "--name", name, within=within
        )

    async def stop(self) -> None:
        for process in [*reversed(self._spawned), self._vnc, self._xvfb]:
            if process is None or process.returncode is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        self._spawned.clear()
        if self._vnc_log is not None:
            self._vnc_log.close()
            self._vnc_log = None
        if self._displayfd >= 0:
            os.close(self._displayfd)
            self._displayfd = -1


def window_args(
    *, title: str, colour: str, x: int, y: int, columns: int = 30, rows: int = 8
) -> Any:
    """``xterm`` arguments for a plain window of one colour (no window manager: it stays put)."""
    return (
        "xterm",
        "-title",
        title,
        "-geometry",
        f"{columns}x{rows}+{x}+{y}",
        "-bg",
        colour,
        "-fg",
        colour,
        "-cr",
        colour,
        "-b",
        "0",
    )


__all__ = ["XDesktop", "XDesktopError", "window_args"]
