"""The browser side of a desktop relay, independent of the web framework."""

from __future__ import annotations

from typing import Any, Protocol

from visa_platform.desktop.protocol import Frame


class BrowserClosed(Exception):
    """The browser's socket is gone."""


class BrowserSocket(Protocol):
    """An accepted websocket to one browser tab."""

    async def receive(self) -> Frame:
        """The next frame; :class:`BrowserClosed` (or cancellation) when the browser left."""
        ...

    async def send(self, data: Frame) -> None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


class QuartBrowserSocket:
    """:class:`BrowserSocket` over Quart's ``websocket`` (already accepted)."""

    def __init__(self, websocket: Any) -> None:
        self._ws = websocket
        self.closed = False

    async def receive(self) -> Frame:
        if self.closed:
            raise BrowserClosed()
        data = await self._ws.receive()
        if not isinstance(data, str | bytes):
            raise BrowserClosed()
        return data

    async def send(self, data: Frame) -> None:
        if self.closed:
            raise BrowserClosed()
        try:
            await self._ws.send(data)
        except Exception as exc:  # the ASGI server refuses to send on a closed socket
            self.closed = True
            raise BrowserClosed() from exc

    async def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await self._ws.close(code, reason)
        except Exception:  # already closed by the browser
            return


__all__ = ["BrowserClosed", "BrowserSocket", "QuartBrowserSocket"]
