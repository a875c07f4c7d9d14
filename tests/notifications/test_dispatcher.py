"""The notification outbox: queued without blocking, retried with back-off, never doubled."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from visa_platform.notifications import (
    Notification,
    NotificationChannel,
    NotificationDispatcher,
    PermanentDeliveryError,
)
from visa_platform.plugin import PluginHost, hookimpl


class Recorder:
    """A channel that fails ``failures`` times, then records what it sends."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or ConnectionRefusedError("down")
        self.attempts = 0
        self.sent: list[Notification] = []
        self.closed = False

    async def send(self, notification: Notification) -> None:
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        self.sent.append(notification)

    async def aclose(self) -> None:
        self.closed = True


def note(kind: str = "test") -> Notification:
    return Notification(kind=kind, subject="s", template="t", recipients=("a@example.org",))


def fast(channels: dict[str, Any], **options: Any) -> NotificationDispatcher:
    options = {"first_delay": 0.01, "max_delay": 0.05, **options}
    return NotificationDispatcher(channels, **options)


def test_recorder_is_a_channel() -> None:
    assert isinstance(Recorder(), NotificationChannel)


async def test_every_channel_gets_the_notification_once() -> None:
    one, two = Recorder(), Recorder()
    dispatcher = fast({"one": one, "two": two})
    await dispatcher.start()
    n = note()
    assert dispatcher.notify(n) is True
    assert dispatcher.notify(n) is False  # the same notification again: nothing more
    assert await dispatcher.join(5)
    assert dispatcher.notify(n) is False  # nor once it was delivered
    await dispatcher.aclose()
    assert one.sent == [n] and two.sent == [n]
    assert one.closed and two.closed
    assert dispatcher.stats.sent == 2


async def test_failures_are_retried_with_back_off_and_sent_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = Recorder(failures=3)
    dispatcher = fast({"c": channel})
    await dispatcher.start()
    with caplog.at_level(logging.WARNING, "visa_platform.notifications"):
        dispatcher.notify(note())
        assert await dispatcher.join(5)
    await dispatcher.aclose()
    assert channel.attempts == 4
    assert len(channel.sent) == 1
    assert dispatcher.stats.failed_attempts == 3
    assert caplog.text.count("outcome=retry_scheduled") == 3
    assert "ConnectionRefusedError" in caplog.text


def test_back_off_doubles_and_is_capped() -> None:
    dispatcher = NotificationDispatcher({}, first_delay=5, max_delay=60)
    assert [dispatcher.retry_delay(n) for n in range(1, 6)] == [5, 10, 20, 40, 60]


async def test_gives_up_after_max_attempts(caplog: pytest.LogCaptureFixture) -> None:
    channel = Recorder(failures=100)
    dispatcher = fast({"c": channel}, max_attempts=3)
    await dispatcher.start()
    with caplog.at_level(logging.ERROR, "visa_platform.notifications"):
        dispatcher.notify(note())
        assert await dispatcher.join(5)
    await dispatcher.aclose()
    assert channel.attempts == 3
    assert dispatcher.stats.given_up == 1
    assert "outcome=given_up" in caplog.text


async def test_permanent_errors_are_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    channel = Recorder(failures=1, error=PermanentDeliveryError("bad template"))
    dispatcher = fast({"c": channel})
    await dispatcher.start()
    with caplog.at_level(logging.ERROR, "visa_platform.notifications"):
        dispatcher.notify(note())
        assert await dispatcher.join(5)
    await dispatcher.aclose()
    assert channel.attempts == 1 and channel.sent == []
    assert "outcome=failed_permanently" in caplog.text


async def test_notify_never_blocks_on_a_hanging_channel() -> None:
    class Hanging(Recorder):
        async def send(self, notification: Notification) -> None:
            self.attempts += 1
            if self.attempts == 1:
                await asyncio.sleep(3600)
            self.sent.append(notification)

    channel = Hanging()
    dispatcher = fast({"c": channel}, send_timeout=0.05)
    await dispatcher.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(50):
        dispatcher.notify(note())
    assert loop.time() - started < 0.05
    assert await dispatcher.join(5)
    await dispatcher.aclose()
    assert len(channel.sent) == 50  # the timed-out one was retried


async def test_notify_does_not_raise_and_ignores_nothing_to_send() -> None:
    assert NotificationDispatcher({}).notify(note()) is False  # no channel configured
    dispatcher = fast({"c": Recorder()}, capacity=1)
    assert dispatcher.notify(None) is False
    assert dispatcher.notify(note()) is True  # queued before start: delivered once started
    assert dispatcher.notify(note()) is False  # outbox full: dropped and logged
    assert dispatcher.stats.dropped == 1
    await dispatcher.start()
    assert await dispatcher.join(5)
    await dispatcher.aclose()
    assert dispatcher.notify(note()) is False  # closed


async def test_close_reports_what_is_still_pending(caplog: pytest.LogCaptureFixture) -> None:
    channel = Recorder(failures=100)
    dispatcher = NotificationDispatcher({"c": channel}, first_delay=3600)
    await dispatcher.start()
    dispatcher.notify(note("pending-kind"))
    await asyncio.sleep(0.05)
    with caplog.at_level(logging.ERROR, "visa_platform.notifications"):
        await dispatcher.aclose(grace=0.05)
    assert "outcome=lost" in caplog.text and "kind=pending-kind" in caplog.text
    assert dispatcher.pending == 0


async def test_from_plugins_builds_the_channels_the_settings_switch_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    built = Recorder()

    class Site:
        @hookimpl
        def visa_register_notification_channels(self, register: Any) -> None:
            register.add("on", lambda settings: built)
            register.add("off", lambda settings: None)
            register.add("broken", lambda settings: 1 / 0)

    host = PluginHost()
    host.register(Site(), "site")
    with caplog.at_level(logging.ERROR, "visa_platform.notifications"):
        dispatcher = NotificationDispatcher.from_plugins(object(), host)
    assert dispatcher.channels == {"on": built}
    assert "channel=broken" in caplog.text
