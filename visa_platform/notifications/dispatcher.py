"""Deliver notifications in the background: an outbox with retries and back-off.

Callers (requests, jobs) call :meth:`NotificationDispatcher.notify`, which only queues and never
raises, so a slow or broken mail server never delays or fails them. Workers hand each
notification to every configured channel; a failed delivery is retried with exponential back-off
up to ``max_attempts`` times, then logged as given up. A notification is delivered at most once
per channel.

Two outboxes:

* with an :class:`~visa_platform.notifications.outbox.OutboxStore` (the server's choice), every
  (notification, channel) is written to ``notification_outbox`` moments after ``notify``; pending
  rows survive a restart and replicas share the work by claiming rows;
* without one, the outbox lives in memory: what is still pending when the process stops is
  logged (``outcome=lost``) and not sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from visa_platform.notifications.model import (
    Notification,
    NotificationChannel,
    PermanentDeliveryError,
)
from visa_platform.notifications.outbox import OutboxStore

log = logging.getLogger("visa_platform.notifications")


@dataclass
class _Delivery:
    notification: Notification
    channel_id: str
    attempts: int = 0
    row_id: int | None = None  # the outbox row, when persisted

    @property
    def key(self) -> tuple[str, str]:
        return (self.notification.id, self.channel_id)


@dataclass
class DispatcherStats:
    """Counters since start-up (shown in logs and used by tests)."""

    queued: int = 0
    sent: int = 0
    failed_attempts: int = 0
    given_up: int = 0
    dropped: int = 0


class NotificationDispatcher:
    """The outbox: ``notify`` queues, background workers deliver through the channels."""

    def __init__(
        self,
        channels: Mapping[str, NotificationChannel],
        *,
        store: OutboxStore | None = None,
        max_attempts: int = 10,
        first_delay: float = 5.0,
        max_delay: float = 600.0,
        send_timeout: float = 60.0,
        capacity: int = 10_000,
        workers: int = 2,
        poll_interval: float = 2.0,
    ) -> None:
        self.channels = dict(channels)
        self.store = store
        self.max_attempts = max_attempts
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.send_timeout = send_timeout
        self.capacity = capacity
        self.poll_interval = poll_interval
        self.stats = DispatcherStats()
        self._workers = workers
        self._queue: asyncio.Queue[_Delivery] = asyncio.Queue()
        self._pending: dict[tuple[str, str], _Delivery] = {}  # queued, in flight or waiting
        self._incoming: list[_Delivery] = []  # not yet written to the store
        self._done: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._retries: set[asyncio.TimerHandle] = set()
        self._tasks: list[asyncio.Task[None]] = []  # workers
        self._background: list[asyncio.Task[None]] = []  # the store's writer and poller
        self._wake_writer = asyncio.Event()
        self._wake_poller = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    @classmethod
    def from_plugins(cls, settings: Any, plugins: Any, **options: Any) -> NotificationDispatcher:
        """A dispatcher over every registered channel that the settings switch on.

        Each ``visa_register_notification_channels`` factory is called with ``settings``; one
        that returns ``None`` is switched off, one that raises is logged and skipped.
        """
        channels: dict[str, NotificationChannel] = {}
        for entry in plugins.notification_channels:
            try:
                channel = entry.factory(settings)
            except Exception:
                log.exception(
                    "event=notification_channel channel=%s plugin=%s outcome=failed",
                    entry.type_id,
                    entry.plugin,
                )
                continue
            if channel is not None:
                channels[entry.type_id] = channel
                log.info("event=notification_channel channel=%s outcome=enabled", entry.type_id)
        return cls(channels, **options)

    # -- callers ----------------------------------------------------------------------------

    def notify(self, notification: Notification | None) -> bool:
        """Queue ``notification`` for every channel; ``False`` when nothing was queued.

        Never raises and never waits. ``None`` (a message nobody should receive) is ignored.
        Queuing the same notification (same id) again is a no-op.
        """
        if notification is None or not self.channels:
            return False
        try:
            if self._closed:
                log.error(
                    "event=notification id=%s kind=%s outcome=dropped reason=closed",
                    notification.id,
                    notification.kind,
                )
                self.stats.dropped += 1
                return False
            queued = False
            for channel_id in self.channels:
                delivery = _Delivery(notification, channel_id)
                if delivery.key in self._pending or delivery.key in self._done:
                    continue
                if len(self._pending) >= self.capacity:
                    self.stats.dropped += 1
                    log.error(
                        "event=notification id=%s kind=%s channel=%s outcome=dropped "
                        "reason=outbox_full capacity=%d",
                        notification.id,
                        notification.kind,
                        channel_id,
                        self.capacity,
                    )
                    continue
                self._pending[delivery.key] = delivery
                self._idle.clear()
                if self.store is None:
                    self._queue.put_nowait(delivery)
                else:
                    self._incoming.append(delivery)
                    self._wake_writer.set()
                self.stats.queued += 1
                queued = True
            return queued
        except Exception:  # never into the caller
            log.exception("event=notification outcome=notify_failed")
            return False

    # -- life -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers (deliveries queued before, or left in the store, are sent now).

        Without a channel there is nothing to deliver: no worker starts, and the store is not
        polled (on SQLite its claiming transactions would only compete with requests).
        """
        if self._tasks or self._closed or not self.channels:
            return
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._work(), name=f"visa-notifications-{n}")
            for n in range(self._workers)
        ]
        if self.store is not None:
            self._background = [
                loop.create_task(self._write(), name="visa-notifications-writer"),
                loop.create_task(self._poll(), name="visa-notifications-poller"),
            ]

    async def join(self, wait: float | None = None) -> bool:
        """Wait (at most ``wait`` seconds) until nothing is pending; ``False`` on timeout.

        With a store, rows left by another process count as pending too.
        """
        try:
            async with asyncio.timeout(wait):
                await self._idle.wait()
                if self.store is not None:
                    while self._pending or await self.store.pending():
                        self._wake_poller.set()
                        await asyncio.sleep(0.02)
        except TimeoutError:
            return False
        return True

    @property
    def closing(self) -> bool:
        """``aclose`` was called: no new notification is accepted."""
        return self._closed

    @property
    def pending(self) -> int:
        """This process's deliveries queued, in progress or waiting for a retry."""
        return len(self._pending)

    async def aclose(self, grace: float = 5.0) -> None:
        """Give pending deliveries ``grace`` seconds, then stop and close the channels."""
        if self._closed:
            return
        self._closed = True
        if self._tasks and self._pending:
            await self.join(grace)
        for handle in self._retries:
            handle.cancel()
        self._retries.clear()
        # the writer and poller stop between two database calls (not cancelled in one)
        self._wake_writer.set()
        self._wake_poller.set()
        if self._background:
            _done, late = await asyncio.wait(self._background, timeout=10)
            for task in late:
                task.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._background, return_exceptions=True)
        self._tasks = []
        self._background = []
        if self.store is not None:
            await self._save_incoming()
            try:
                await self.store.release(
                    [d.row_id for d in self._pending.values() if d.row_id is not None]
                )
            except Exception:
                log.exception("event=notification outcome=release_failed")
        for delivery in self._pending.values():
            if self.store is not None and delivery not in self._incoming:
                continue  # safe in the store: the next process delivers it
            log.error(
                "event=notification id=%s kind=%s channel=%s attempts=%d outcome=lost "
                "reason=shutdown",
                delivery.notification.id,
                delivery.notification.kind,
                delivery.channel_id,
                delivery.attempts,
            )
        self._pending.clear()
        self._idle.set()
        for channel_id, channel in self.channels.items():
            try:
                await channel.aclose()
            except Exception:
                log.exception(
                    "event=notification_channel channel=%s outcome=close_failed", channel_id
                )

    # -- the store --------------------------------------------------------------------------

    async def _save_incoming(self) -> bool:
        assert self.store is not None
        batch = list(self._incoming)
        if not batch:
            return True
        try:
            await self.store.add([(d.notification, d.channel_id) for d in batch])
        except Exception as exc:
            log.warning(
                "event=notification outcome=outbox_write_failed count=%d error=%r",
                len(batch),
                _describe(exc),
            )
            return False
        for delivery in batch:
            self._incoming.remove(delivery)
            self._pending.pop(delivery.key, None)  # the store holds it now
        if not self._pending:
            self._idle.set()
        self._wake_poller.set()
        return True

    async def _write(self) -> None:
        failures = 0
        while not self._closed:
            await self._wake_writer.wait()
            self._wake_writer.clear()
            if self.closing:
                return  # aclose saves what is left
            if await self._save_incoming():
                failures = 0
            else:  # database briefly unreachable: keep them and try again
                failures += 1
                await asyncio.sleep(min(self.first_delay * 2**failures, 30.0))
                self._wake_writer.set()

    async def _poll(self) -> None:
        assert self.store is not None
        while not self._closed:
            try:
                free = max(self._workers * 4 - self._queue.qsize(), 0)
                claimed = await self.store.claim(free, set(self.channels)) if free else []
            except Exception as exc:
                log.warning(
                    "event=notification outcome=outbox_read_failed error=%r", _describe(exc)
                )
                claimed = []
            if self.closing:
                await self.store.release([row.row_id for row in claimed])
                return
            for row in claimed:
                delivery = _Delivery(row.notification, row.channel, row.attempts, row.row_id)
                self._pending[delivery.key] = delivery
                self._idle.clear()
                self._queue.put_nowait(delivery)
            if not claimed:
                try:
                    async with asyncio.timeout(self.poll_interval):
                        await self._wake_poller.wait()
                except TimeoutError:
                    pass
                self._wake_poller.clear()

    # -- workers ----------------------------------------------------------------------------

    def retry_delay(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``: doubling from ``first_delay``, capped."""
        return float(min(self.first_delay * (2 ** max(attempts - 1, 0)), self.max_delay))

    async def _work(self) -> None:
        while True:
            delivery = await self._queue.get()
            try:
                await self._deliver(delivery)
            except Exception:  # a bug (or the store failing) must not kill the worker
                log.exception("event=notification outcome=worker_error")
                self._finish(delivery)

    async def _deliver(self, delivery: _Delivery) -> None:
        notification = delivery.notification
        channel = self.channels[delivery.channel_id]
        delivery.attempts += 1
        fields = (
            f"id={notification.id} kind={notification.kind} channel={delivery.channel_id} "
            f"attempt={delivery.attempts}"
        )
        try:
            await asyncio.wait_for(channel.send(notification), self.send_timeout)
        except PermanentDeliveryError as exc:
            self.stats.given_up += 1
            log.error("event=notification %s outcome=failed_permanently error=%r", fields, str(exc))
            await self._record_failure(delivery, str(exc))
            return
        except Exception as exc:
            self.stats.failed_attempts += 1
            if delivery.attempts >= self.max_attempts:
                self.stats.given_up += 1
                log.error("event=notification %s outcome=given_up error=%r", fields, _describe(exc))
                await self._record_failure(delivery, _describe(exc))
                return
            delay = self.retry_delay(delivery.attempts)
            log.warning(
                "event=notification %s outcome=retry_scheduled delay_s=%.1f error=%r",
                fields,
                delay,
                _describe(exc),
            )
            if self.store is not None and delivery.row_id is not None:
                await self.store.retry(delivery.row_id, delivery.attempts, delay, _describe(exc))
                self._finish(delivery, done=False)
            elif self._closed:
                self._finish(delivery)
            else:
                self._schedule_retry(delivery, delay)
            return
        self.stats.sent += 1
        log.info("event=notification %s outcome=sent", fields)
        if self.store is not None and delivery.row_id is not None:
            await self.store.sent(delivery.row_id, delivery.attempts)
        self._finish(delivery)

    async def _record_failure(self, delivery: _Delivery, error: str) -> None:
        if self.store is not None and delivery.row_id is not None:
            await self.store.failed(delivery.row_id, delivery.attempts, error)
        self._finish(delivery)

    def _schedule_retry(self, delivery: _Delivery, delay: float) -> None:
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def requeue() -> None:
            if handle is not None:
                self._retries.discard(handle)
            if not self._closed:
                self._queue.put_nowait(delivery)

        handle = loop.call_later(delay, requeue)
        self._retries.add(handle)

    def _finish(self, delivery: _Delivery, done: bool = True) -> None:
        self._pending.pop(delivery.key, None)
        if done:
            self._done[delivery.key] = None
            while len(self._done) > 2 * self.capacity:
                self._done.popitem(last=False)
        if not self._pending:
            self._idle.set()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
