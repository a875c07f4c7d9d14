"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives, for email tests.

``server.messages`` holds every accepted message (envelope sender and recipients, parsed
message); ``server.stop()`` / ``server.start()`` take it down and bring it back on the same port;
``server.refuse_next(n)`` answers the next ``n`` messages with a temporary failure (451).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from visa_platform.testing.servers import free_port


@dataclass(frozen=True)
class ReceivedMessage:
    """One message the server accepted."""

    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("html", "plain"))
        return "" if part is None else str(part.get_content())


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.owner._lock:
            if self.owner._refuse > 0:
                self.owner._refuse -= 1
                return "451 Requested action aborted: try again later"
            parsed = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            self.owner.messages.append(
                ReceivedMessage(envelope.mail_from, tuple(envelope.rcpt_tos), parsed)
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd server on a free loopback port, stopped by the test that started it."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[ReceivedMessage] = []
        self._lock = threading.Lock()
        self._refuse = 0
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    async def start(self) -> None:
        if self._controller is None:
            controller = Controller(_Handler(self), hostname=self.host, port=self.port)
            await asyncio.to_thread(controller.start)
            self._controller = controller

    async def stop(self) -> None:
        if self._controller is not None:
            controller, self._controller = self._controller, None
            await asyncio.to_thread(controller.stop)

    def refuse_next(self, count: int) -> None:
        """Answer the next ``count`` messages with 451 (a temporary failure)."""
        with self._lock:
            self._refuse = count

    async def wait_for(self, count: int, within: float = 10.0) -> list[ReceivedMessage]:
        """Wait (``within`` seconds at most) until ``count`` messages arrived; returns them all."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.messages) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"expected {count} message(s) at the SMTP server, got {len(self.messages)}"
                )
            await asyncio.sleep(0.01)
        return list(self.messages)
