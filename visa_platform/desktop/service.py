"""The relay core: open a browser's desktop socket, apply the session rules, relay, clean up.

Spec: desktop-security-cloud.md §1.4-§1.11. A protocol plugin's route accepts the websocket and
calls :meth:`DesktopService.serve`; everything else happens here:

* the ticket is consumed, the role decided (:mod:`visa_platform.desktop.access`);
* a support user without the right to connect alone waits for the owner's answer;
* one desktop session per (instance, protocol): joined if one is current, created otherwise by
  the owner or by who may connect while the owner is away;
* input from guests (and from users while the room is locked) and owner-only instructions from
  others are dropped; mouse and keyboard activity is recorded at most every 15 s;
* a keep-alive every 5 s, a 60 s idle timeout, and the owner-disconnection policy when the last
  owner leaves (DISCONNECT_ALL closes everyone else, LOCK_ROOM locks the room);
* every ``vdi:*`` event goes through the broker to the gateway sockets of the right client ids;
* what concerns other replicas' sockets (joins, leaves, lock, close, access requests, answers
  and revokes) is broadcast as a :mod:`~visa_platform.desktop.coordination` message, which
  every replica (this one included) applies to the members and candidates it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from visa_platform.compute import CloudClients, CloudError
from visa_platform.config import OwnerDisconnectionPolicy, Settings
from visa_platform.desktop import events, rows
from visa_platform.desktop.access import (
    ConnectedUser,
    Entry,
    Visitor,
    entry_decision,
    granted_role,
    load_visitor,
)
from visa_platform.desktop.activity import ActivityTracker
from visa_platform.desktop.coordination import (
    AccessRequest,
    AccessRequestCancellation,
    AccessRequestResponse,
    AccessRevoked,
    Coordinator,
    InstanceDesktopsEnded,
    SessionClosed,
    SessionLocked,
    SessionUnlocked,
    UserConnected,
    UserDisconnected,
)
from visa_platform.desktop.live import Candidate, LiveSession, Member
from visa_platform.desktop.protocol import (
    BadClientFrame,
    CloseWhy,
    DesktopConnectError,
    DesktopProtocol,
    InstructionKind,
    RemoteDesktop,
)
from visa_platform.desktop.sockets import BrowserClosed, BrowserSocket
from visa_platform.desktop.target import desktop_target
from visa_platform.desktop.tickets import consume_ticket
from visa_platform.domain.enums import InstanceMemberRole
from visa_platform.events.broker import Broker, Event
from visa_platform.events.client_events import carrier, listen_client_events
from visa_platform.plugin import PluginHost, RegistryError, hookimpl
from visa_platform.plugin.types import InstanceEvent, SessionEvent
from visa_platform.scheduler.clock import Clock, SystemClock

log = logging.getLogger("visa_platform.desktop")

EXTENSION_KEY = "visa_desktop"
#: Seconds between keep-alives to each browser (members and waiting requesters).
NOP_INTERVAL = 5.0
#: Seconds without any frame from a member's browser before it is disconnected.
IDLE_TIMEOUT = 60.0
#: Largest frame accepted from a browser (characters or bytes).
MAX_CLIENT_FRAME = 256 * 1024

CLOSE_CODES = {
    CloseWhy.ENDED: 1000,
    CloseWhy.REVOKED: 1000,
    CloseWhy.IDLE: 1000,
    CloseWhy.DENIED: 1008,
    CloseWhy.OWNER_AWAY: 1008,
    CloseWhy.BAD_INPUT: 1007,
    CloseWhy.UNREACHABLE: 1011,
}

FORWARDED_ROLES = frozenset({InstanceMemberRole.OWNER, InstanceMemberRole.SUPPORT})


class DesktopService:
    """The desktops relayed by this process, and the rules around them."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        plugins: PluginHost,
        settings: Settings,
        clock: Clock | None = None,
        clouds: CloudClients | None = None,
    ) -> None:
        self._db = sessions
        self.broker = broker
        self.plugins = plugins
        self.settings = settings
        #: The cloud clients, asked for the secrets a protocol needs (``desktop_credentials``).
        self.clouds = clouds
        self.clock: Clock = clock or SystemClock()
        self.live_sessions: dict[int, LiveSession] = {}
        self.members: dict[str, Member] = {}
        self.candidates: dict[str, Candidate] = {}
        self._protocols: dict[str, DesktopProtocol] = {}
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}
        self._leaving: set[asyncio.Task[None]] = set()
        self.coordinator = Coordinator(broker)
        self.coordinator.on(UserConnected, self._on_user_connected)
        self.coordinator.on(UserDisconnected, self._on_user_disconnected)
        self.coordinator.on(SessionLocked, self._on_session_locked)
        self.coordinator.on(SessionUnlocked, self._on_session_unlocked)
        self.coordinator.on(SessionClosed, self._on_session_closed)
        self.coordinator.on(AccessRequest, self._on_access_request)
        self.coordinator.on(AccessRequestCancellation, self._on_access_cancelled)
        self.coordinator.on(AccessRequestResponse, self._on_access_response)
        self.coordinator.on(AccessRevoked, self._on_access_revoked)
        self.coordinator.on(InstanceDesktopsEnded, self._on_desktops_ended)

    @property
    def policy(self) -> OwnerDisconnectionPolicy:
        return self.settings.vdi_owner_disconnection_policy

    def protocol(self, name: str) -> DesktopProtocol:
        """The protocol plugin registered as ``name``, built once with the settings."""
        if name not in self._protocols:
            self._protocols[name] = self.plugins.desktop_protocols.create(name, self.settings)
        return self._protocols[name]

    # -- start and stop ---------------------------------------------------------------------

    async def start(self) -> None:
        """VISA_VDI_CLEANUP_SESSIONS_ON_STARTUP: forget every session a previous run left."""
        if self.settings.vdi_cleanup_sessions_on_startup:
            async with self._db() as db:
                await rows.clean_all_sessions(db)
                await db.commit()
            log.info("event=desktop_sessions_cleaned")

    async def stop(self) -> None:
        """Disconnect every client of this process, so that no member row stays active."""
        for candidate in list(self.candidates.values()):
            candidate.settle(None)
        for member in list(self.members.values()):
            member.end(CloseWhy.ENDED)
        for _ in range(200):
            if not self.members and not self.candidates and not self._leaving:
                break
            await asyncio.sleep(0.01)
        if self._leaving:
            await asyncio.gather(*self._leaving, return_exceptions=True)
        self.coordinator.close()
        protocols, self._protocols = list(self._protocols.values()), {}
        for protocol in protocols:
            aclose = getattr(protocol, "aclose", None)
            if aclose is None:
                continue
            try:
                await aclose()
            except Exception as exc:  # one protocol's failure must not stop the others
                log.error("event=desktop_protocol_close_failed error=%r", exc)

    def disconnect_instance(self, instance_id: int) -> int:
        """End this process's clients of an instance (it stops, reboots or goes); how many."""
        ended = [m for m in self.members.values() if m.session.instance_id == instance_id]
        for member in ended:
            member.end(CloseWhy.REVOKED)
        return len(ended)

    async def _credentials(self, instance: Any, protocol: DesktopProtocol) -> dict[str, str]:
        """What the instance's compute backend says the protocol needs (none when it fails)."""
        image = instance.plan.image if instance.plan is not None else None
        cloud_id = image.cloud_provider_configuration_id if image is not None else None
        client = self.clouds.get(cloud_id) if self.clouds is not None else None
        if client is None or not instance.compute_id:
            return {}
        try:
            return await client.backend.desktop_credentials(instance.compute_id, protocol.name)
        except CloudError as exc:
            log.warning(
                "event=desktop_credentials outcome=failed instance=%s error=%r",
                instance.id,
                str(exc),
            )
            return {}

    # -- one browser socket -----------------------------------------------------------------

    async def serve(
        self,
        socket: BrowserSocket,
        token: str,
        client_id: str,
        protocol_name: str,
        client_options: Mapping[str, str] | None = None,
    ) -> None:
        """Run one accepted desktop websocket from ticket to goodbye.

        ``client_options`` are what the route read from the browser's request for the protocol
        (validated there); they reach the protocol as ``DesktopTarget.client_options``.
        """
        try:
            protocol = self.protocol(protocol_name)
        except RegistryError:
            log.error("event=desktop_refused reason=unknown_protocol protocol=%s", protocol_name)
            await socket.close(CLOSE_CODES[CloseWhy.UNREACHABLE], "")
            return
        now = self.clock.now()
        async with self._db() as db:
            ticket = await consume_ticket(db, token, now)
            await db.commit()
            visitor = await load_visitor(db, ticket, now) if ticket is not None else None
            latest = owner_on_latest = owner_on_any = None
            if visitor is not None:
                current = await rows.current_session(db, visitor.instance.id, protocol.name)
                latest = current.id if current is not None else None
                owner_on_latest = latest is not None and await rows.owner_in_session(db, latest)
                owner_on_any = await rows.owner_connected(db, visitor.instance.id, protocol.name)
                await db.commit()
        if visitor is None:
            log.info("event=desktop_refused reason=invalid_ticket client=%s", client_id)
            await self._refuse(socket, protocol, client_id, CloseWhy.DENIED)
            return
        owner_there = bool(owner_on_any if visitor.public else owner_on_latest)
        decision = entry_decision(visitor, owner_there)
        log.info(
            "event=desktop_open user=%s instance=%s role=%s decision=%s client=%s",
            visitor.user.id,
            visitor.instance.id,
            visitor.role.value,
            decision.value,
            client_id,
        )
        if decision is Entry.DENIED:
            await self._refuse(socket, protocol, client_id, CloseWhy.DENIED)
            return
        if decision is Entry.OWNER_AWAY:
            await self._refuse(socket, protocol, client_id, CloseWhy.OWNER_AWAY)
            return
        user = visitor.user
        granted = False
        if decision is Entry.REQUEST_ACCESS:
            assert latest is not None
            role = await self._wait_for_owner(socket, protocol, client_id, visitor, latest)
            if role is None:
                return
            user, granted = user.with_role(role), True
        joined = await self._join(socket, protocol, client_id, visitor, user, client_options)
        if joined is None:
            return
        member, owner_before = joined
        try:
            await self._announce_join(member, owner_before)
            if granted:
                await self._publish(events.access_granted(client_id, user.role))
            await self._relay(member, protocol)
        finally:
            leave = asyncio.ensure_future(self._leave(member, protocol))
            self._leaving.add(leave)
            leave.add_done_callback(self._leaving.discard)
            # a cancelled handler (the browser vanished) must not cut the bookkeeping short
            await asyncio.shield(leave)

    async def _refuse(
        self, socket: BrowserSocket, protocol: DesktopProtocol, client_id: str, why: CloseWhy
    ) -> None:
        event = events.owner_away(client_id) if why is CloseWhy.OWNER_AWAY else None
        if why is CloseWhy.DENIED:
            event = events.access_denied(client_id)
        elif why is CloseWhy.UNREACHABLE:
            event = events.connection_failed(client_id)
        if event is not None:
            await self._publish(event)
        await socket.close(CLOSE_CODES[why], protocol.close_reason(why))

    # -- access requests --------------------------------------------------------------------

    async def _wait_for_owner(
        self,
        socket: BrowserSocket,
        protocol: DesktopProtocol,
        client_id: str,
        visitor: Visitor,
        session_id: int,
    ) -> InstanceMemberRole | None:
        """Spec §1.8: ask the owner; the granted role, or ``None`` (socket closed, events sent)."""
        candidate = Candidate(client_id, visitor, session_id, socket)
        self.candidates[client_id] = candidate
        await self._publish(events.access_pending(client_id))
        await self.coordinator.send(AccessRequest(session_id, visitor.user, client_id))

        async def drain() -> None:  # frames are ignored while waiting; the loop sees the close
            while True:
                await socket.receive()

        async def keepalive() -> None:
            while True:
                await asyncio.sleep(NOP_INTERVAL)
                if protocol.keepalive is not None:
                    await socket.send(protocol.keepalive)

        watchers = [asyncio.ensure_future(drain()), asyncio.ensure_future(keepalive())]
        vanished = False
        try:
            waiting: list[asyncio.Future[Any]] = [candidate.answer, *watchers]
            await asyncio.wait(waiting, return_when="FIRST_COMPLETED")
        except asyncio.CancelledError:  # the browser went away (the handler is cancelled)
            vanished = True
        finally:
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            self.candidates.pop(client_id, None)
        if vanished or not candidate.answer.done():
            candidate.answer.cancel()
            cancelled = AccessRequestCancellation(session_id, visitor.user, client_id)
            await self.coordinator.send(cancelled)
            if vanished:
                raise asyncio.CancelledError()
            await socket.close(CLOSE_CODES[CloseWhy.ENDED], protocol.close_reason(CloseWhy.ENDED))
            return None
        answer = candidate.answer.result()
        if answer is None:
            await self._refuse(socket, protocol, client_id, CloseWhy.OWNER_AWAY)
            return None
        role = granted_role(answer, visitor)
        if role is InstanceMemberRole.NONE:
            await self._refuse(socket, protocol, client_id, CloseWhy.DENIED)
            return None
        return role

    async def on_access_reply(self, user_id: str, client_id: str, data: Any) -> None:
        """Gateway ``vdi:access_reply`` from an owner's tab (carried to every replica; the one
        holding that owner's desktop socket acts): answer a waiting requester."""
        member = self.members.get(client_id)
        if member is None or not member.is_owner or not isinstance(data, dict):
            return
        try:
            session_id = int(data["sessionId"])
            requester = str(data["requesterConnectionId"])
        except (KeyError, TypeError, ValueError):
            return
        if member.session.id != session_id:
            return
        response = str(data.get("response"))
        if response not in (InstanceMemberRole.GUEST.value, InstanceMemberRole.SUPPORT.value):
            response = InstanceMemberRole.NONE.value
        reply = AccessRequestResponse(session_id, requester, InstanceMemberRole(response))
        await self.coordinator.send(reply)

    async def on_access_revoked(self, user_id: str, client_id: str, data: Any) -> None:
        """Gateway ``vdi:access_revoked`` from an owner's tab (carried to every replica; the one
        holding that owner's desktop socket acts): put a user out of the session."""
        member = self.members.get(client_id)
        if member is None or not member.is_owner or not isinstance(data, dict):
            return
        revoked = data.get("userId")
        if revoked is None:
            return
        revoked = str(revoked)
        await self._publish(events.access_revoked_user(revoked))
        await self.coordinator.send(AccessRevoked(member.session.id, revoked))

    # -- joining ----------------------------------------------------------------------------

    async def _join(
        self,
        socket: BrowserSocket,
        protocol: DesktopProtocol,
        client_id: str,
        visitor: Visitor,
        user: ConnectedUser,
        client_options: Mapping[str, str] | None,
    ) -> tuple[Member, bool] | None:
        """Spec §1.5: get or create the desktop session, then the member (rows and memory).

        Also whether an owner was in the session before this member came.
        """
        instance = visitor.instance
        credentials = await self._credentials(instance, protocol)
        lock = self._locks.setdefault((instance.id, protocol.name), asyncio.Lock())
        async with lock, self.broker.exclusive(_desktop_lock(instance.id, protocol.name)):
            now = self.clock.now()
            async with self._db() as db:
                current = await rows.current_session(db, instance.id, protocol.name)
                session_id = current.id if current is not None else None
                try:
                    target = await desktop_target(
                        db,
                        instance,
                        protocol,
                        self.settings,
                        now,
                        current.connection_id if current is not None else None,
                        credentials,
                        client_options,
                    )
                except DesktopConnectError as exc:
                    log.warning("event=desktop_no_target instance=%s error=%r", instance.id, exc)
                    await db.commit()
                    await self._refuse(socket, protocol, client_id, CloseWhy.UNREACHABLE)
                    return None
                await db.commit()
            remote: RemoteDesktop | None = None
            if session_id is not None:
                try:
                    remote = await protocol.open(target)
                except DesktopConnectError as exc:
                    log.info("event=desktop_join_failed session=%s error=%r", session_id, str(exc))
                    async with self._db() as db:
                        await rows.retire_session(db, session_id)
                        await db.commit()
                    session_id = None
            if remote is None:
                if not visitor.may_create_session and user.role is not InstanceMemberRole.OWNER:
                    await self._refuse(socket, protocol, client_id, CloseWhy.OWNER_AWAY)
                    return None
                try:
                    remote = await protocol.open(_new(target))
                except DesktopConnectError as exc:
                    log.warning(
                        "event=desktop_unreachable instance=%s error=%r", instance.id, str(exc)
                    )
                    await self._refuse(socket, protocol, client_id, CloseWhy.UNREACHABLE)
                    return None
            try:
                async with self._db() as db:
                    if session_id is None:
                        row = await rows.create_session(
                            db, instance.id, protocol.name, remote.connection_id, now
                        )
                        session_id = row.id
                    owner_before = await rows.owner_in_session(db, session_id)
                    row_id = (await rows.add_member(db, session_id, client_id, user, now)).id
                    await rows.instance_activated(db, instance.id)
                    await db.commit()
            except BaseException:
                await remote.close()
                raise
        live = self.live_sessions.get(session_id)
        if live is None:
            live = LiveSession(
                session_id,
                instance.id,
                instance.uid,
                protocol.name,
                remote.connection_id,
                locked=self.policy is OwnerDisconnectionPolicy.LOCK_ROOM and not owner_before,
            )
            self.live_sessions[session_id] = live
        member = Member(
            client_id, user, live, socket, remote, visitor.can_connect_while_owner_away, row_id
        )
        previous = self.members.get(client_id)
        if previous is not None:  # the same tab reconnecting: the old relay goes
            previous.end(CloseWhy.ENDED)
        live.members[client_id] = member
        self.members[client_id] = member
        return member, owner_before

    async def _announce_join(self, member: Member, owner_before: bool) -> None:
        """Spec §1.5 step 9: the room unlocks for a returning owner, or learns who came."""
        live = member.session
        unlock = (
            self.policy is OwnerDisconnectionPolicy.LOCK_ROOM
            and member.is_owner
            and not owner_before
        )
        if unlock:
            await self.coordinator.send(SessionUnlocked(live.id))
        else:
            await self.coordinator.send(UserConnected(live.id, member.client_id, member.user))
        await self.plugins.session_opened(self._session_event(member, None))

    async def _publish_users(self, live: LiveSession) -> None:
        """``vdi:users_connected`` to this replica's members of a session: who is in it on
        every replica (the database's active member rows)."""
        clients = live.clients()
        if not clients:
            return
        async with self._db() as db:
            members = await rows.active_members(db, live.id)
        event = events.users_connected(
            clients, [u for _, u in members], live.instance_id, live.locked
        )
        if event is not None:
            await self._publish(event)

    # -- relaying ---------------------------------------------------------------------------

    def may_forward(self, member: Member, kind: InstructionKind) -> bool:
        """Spec §1.9 step 5, plus owner-only instructions (screen size ...) for owners only."""
        if kind is InstructionKind.INTERNAL:
            return False
        if kind is InstructionKind.OWNER_ONLY:
            return member.is_owner
        if kind not in (InstructionKind.MOUSE, InstructionKind.KEYBOARD):
            return True
        if member.role in FORWARDED_ROLES:
            return True
        return member.role is InstanceMemberRole.USER and not member.session.locked

    async def _relay(self, member: Member, protocol: DesktopProtocol) -> None:
        loop = asyncio.get_running_loop()
        reader = protocol.client_reader()
        tracker = ActivityTracker(
            self.clock.now(),
            timedelta(minutes=self.settings.vdi_max_session_inactivity_time_minutes),
        )
        last_frame = loop.time()

        async def from_browser() -> None:
            nonlocal last_frame
            while True:
                frame = await member.socket.receive()
                last_frame = loop.time()
                if len(frame) > MAX_CLIENT_FRAME:
                    member.end(CloseWhy.BAD_INPUT)
                    return
                try:
                    instructions = reader.feed(frame)
                except BadClientFrame as exc:
                    log.info("event=desktop_bad_frame client=%s error=%r", member.client_id, exc)
                    member.end(CloseWhy.BAD_INPUT)
                    return
                now = self.clock.now()
                for instruction in instructions:
                    if instruction.reply is not None:
                        await member.socket.send(instruction.reply)
                    tracker.observe(instruction.kind, now)
                    if self.may_forward(member, instruction.kind):
                        await _remote(member.remote.send(instruction.data))
                update = tracker.due(now)
                if update is not None:
                    if tracker.inactive(now):
                        member.end(CloseWhy.IDLE)
                        return
                    await self._record(member, update.now, update)

        async def to_browser() -> None:
            while (data := await _remote(member.remote.receive())) is not None:
                await member.socket.send(data)
            member.end(CloseWhy.ENDED)

        async def timers() -> None:
            next_nop = loop.time() + NOP_INTERVAL
            while True:
                now = loop.time()
                deadline = last_frame + IDLE_TIMEOUT
                if now >= deadline:
                    member.end(CloseWhy.IDLE)
                    return
                if now >= next_nop:
                    if protocol.keepalive is not None:
                        await member.socket.send(protocol.keepalive)
                    next_nop = now + NOP_INTERVAL
                await asyncio.sleep(max(0.0, min(deadline, next_nop) - now))

        tasks = [
            asyncio.ensure_future(from_browser()),
            asyncio.ensure_future(to_browser()),
            asyncio.ensure_future(timers()),
            asyncio.ensure_future(member.stop.wait()),
        ]
        try:
            await asyncio.wait(tasks, return_when="FIRST_COMPLETED")
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, _RemoteFailed):
                member.end(CloseWhy.UNREACHABLE)
            elif isinstance(result, BrowserClosed | ConnectionError):
                member.end(CloseWhy.ENDED)
            elif isinstance(result, Exception):
                log.error("event=desktop_relay_failed client=%s error=%r", member.client_id, result)
                member.end(CloseWhy.UNREACHABLE)
        member.end(CloseWhy.ENDED)

    async def _record(self, member: Member, now: Any, update: Any) -> None:
        try:
            async with self._db() as db:
                await rows.record_activity(
                    db,
                    instance_id=member.session.instance_id,
                    member_id=member.row_id,
                    user_id=member.user.id,
                    now=now,
                    last_interaction_at=update.last_interaction_at,
                    activity=update.activity,
                )
                await db.commit()
        except Exception as exc:  # activity is bookkeeping: never end a session over it
            log.error("event=desktop_activity_failed client=%s error=%r", member.client_id, exc)

    # -- leaving ----------------------------------------------------------------------------

    async def _leave(self, member: Member, protocol: DesktopProtocol) -> None:
        """Spec §1.11: rows, the owner-disconnection policy, events, the socket and the tunnel."""
        why = member.why or CloseWhy.ENDED
        live = member.session
        if live.members.get(member.client_id) is member:
            del live.members[member.client_id]
        if self.members.get(member.client_id) is member:
            del self.members[member.client_id]
        if not live.members and self.live_sessions.get(live.id) is live:
            del self.live_sessions[live.id]
        with contextlib.suppress(Exception):
            await member.remote.close()
        with contextlib.suppress(Exception):
            await member.socket.close(CLOSE_CODES[why], protocol.close_reason(why))
        now = self.clock.now()
        # one leave at a time per desktop: "who remains" must see the other leavers' rows
        lock = self._locks.setdefault((live.instance_id, live.protocol), asyncio.Lock())
        exclusive = self.broker.exclusive(_desktop_lock(live.instance_id, live.protocol))
        async with lock, exclusive, self._db() as db:
            exists = await rows.session_exists(db, live.id)
            remaining: list[tuple[str, ConnectedUser]] = []
            if exists:
                await rows.end_member(db, member.row_id, now)
                remaining = await rows.active_members(db, live.id)
                if not remaining and not protocol.persistent_sessions:
                    await rows.retire_session(db, live.id)
            await db.commit()
        log.info(
            "event=desktop_closed user=%s instance=%s client=%s why=%s",
            member.user.id,
            live.instance_id,
            member.client_id,
            why.value,
        )
        owner_left = member.is_owner and not any(
            u.role is InstanceMemberRole.OWNER for _, u in remaining
        )
        if not exists:
            await self.coordinator.send(SessionClosed(live.id))
        elif owner_left and self.policy is OwnerDisconnectionPolicy.LOCK_ROOM:
            await self.coordinator.send(SessionLocked(live.id, member.user))
        elif owner_left:
            await self.coordinator.send(SessionClosed(live.id))
        else:
            await self.coordinator.send(UserDisconnected(live.id, member.client_id, member.user))
        key = (live.instance_id, live.protocol)
        held = self._locks.get(key)
        in_use = any((s.instance_id, s.protocol) == key for s in self.live_sessions.values())
        if held is not None and not held.locked() and not in_use:
            del self._locks[key]  # nobody here nor joining: do not keep one per instance forever
        await self.plugins.session_closed(self._session_event(member, why.value))

    # -- what every replica does with the coordination messages (its local sockets only) ---

    def _owner_away_for_candidates(self, session_id: int) -> None:
        for candidate in list(self.candidates.values()):
            if candidate.session_id == session_id:
                candidate.settle(None)

    async def _on_user_connected(self, message: UserConnected) -> None:
        live = self.live_sessions.get(message.session_id)
        if live is None:
            return
        others = live.clients(but=message.client_id)
        if others:
            await self._publish(events.user_connected(others, message.user, live.instance_id))
        await self._publish_users(live)

    async def _on_user_disconnected(self, message: UserDisconnected) -> None:
        live = self.live_sessions.get(message.session_id)
        if live is None:
            return
        others = live.clients(but=message.client_id)
        if others:
            await self._publish(events.user_disconnected(others, message.user, live.instance_id))
        await self._publish_users(live)

    async def _on_session_closed(self, message: SessionClosed) -> None:
        """DISCONNECT_ALL (or the session row is gone): everyone but owners goes."""
        live = self.live_sessions.get(message.session_id)
        if live is not None:
            for other in list(live.members.values()):
                if not other.is_owner:
                    await self._publish(events.access_revoked_client(other.client_id))
                    other.end(CloseWhy.REVOKED)
        self._owner_away_for_candidates(message.session_id)

    async def _on_session_locked(self, message: SessionLocked) -> None:
        """LOCK_ROOM: users become read-only until an owner returns."""
        live = self.live_sessions.get(message.session_id)
        if live is not None:
            live.locked = True
            for other in list(live.members.values()):
                if other.is_owner:
                    continue
                if other.role is InstanceMemberRole.SUPPORT and other.can_connect_while_owner_away:
                    event = events.user_disconnected(
                        [other.client_id], message.user, live.instance_id
                    )
                else:
                    event = events.session_locked([other.client_id])
                await self._publish(event)
            await self._publish_users(live)
        self._owner_away_for_candidates(message.session_id)

    async def _on_session_unlocked(self, message: SessionUnlocked) -> None:
        live = self.live_sessions.get(message.session_id)
        if live is None:
            return
        live.locked = False
        others = live.clients(owners=False)
        if others:
            await self._publish(events.session_unlocked(others))
        await self._publish_users(live)

    async def _on_access_request(self, message: AccessRequest) -> None:
        live = self.live_sessions.get(message.session_id)
        owners = live.clients(owners=True) if live is not None else []
        if owners:
            event = events.access_request(
                owners, message.session_id, message.user, message.requester_client_id
            )
            await self._publish(event)

    async def _on_access_cancelled(self, message: AccessRequestCancellation) -> None:
        live = self.live_sessions.get(message.session_id)
        owners = live.clients(owners=True) if live is not None else []
        if owners:
            event = events.access_cancel(owners, message.user, message.requester_client_id)
            await self._publish(event)

    async def _on_access_response(self, message: AccessRequestResponse) -> None:
        candidate = self.candidates.get(message.requester_client_id)
        if candidate is not None and candidate.session_id == message.session_id:
            candidate.settle(message.role.value)
        live = self.live_sessions.get(message.session_id)
        owners = live.clients(owners=True) if live is not None else []
        if owners:
            event = events.access_reply(
                owners, message.session_id, message.requester_client_id, message.role
            )
            await self._publish(event)

    async def _on_desktops_ended(self, message: InstanceDesktopsEnded) -> None:
        ended = self.disconnect_instance(message.instance_id)
        if ended:
            log.info(
                "event=desktop_instance_down instance=%s state=%s clients=%s",
                message.instance_id,
                message.state,
                ended,
            )

    async def _on_access_revoked(self, message: AccessRevoked) -> None:
        live = self.live_sessions.get(message.session_id)
        if live is None:
            return
        for other in list(live.members.values()):
            if other.user.id == message.user_id and not other.is_owner:
                other.end(CloseWhy.REVOKED)

    # -- helpers ----------------------------------------------------------------------------

    async def _publish(self, event: Event) -> None:
        if event.audience.client_ids or event.audience.user_ids or event.audience.everyone:
            await self.broker.publish(event)

    def _session_event(self, member: Member, reason: str | None) -> SessionEvent:
        live = member.session
        return SessionEvent(
            instance_id=live.instance_id,
            instance_uid=live.instance_uid,
            user_id=member.user.id,
            role=member.role.value,
            protocol=live.protocol,
            connection_id=live.connection_id,
            client_id=member.client_id,
            occurred_at=self.clock.now(),
            reason=reason,
        )


class _RemoteFailed(Exception):
    """The desktop side of the relay failed (as opposed to the browser side)."""


async def _remote(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except (OSError, DesktopConnectError, ConnectionError) as exc:
        raise _RemoteFailed(str(exc)) from exc


def _desktop_lock(instance_id: int, protocol: str) -> str:
    """The lock, across replicas, of one desktop's get-or-create and leaving."""
    return f"desktop:{instance_id}:{protocol}"


def _new(target: Any) -> Any:
    """The same target without a connection to join."""
    from dataclasses import replace

    return replace(target, connection_id=None)


# -- the application's instance ---------------------------------------------------------------

#: An instance entering one of these states loses its desktop (VISA ends its sessions on start,
#: shutdown, reboot and delete; the rows are ended by the lifecycle engine itself).
ENDING_STATES = frozenset({"STOPPING", "STOPPED", "REBOOTING", "DELETING", "DELETED"})
PLUGIN_NAME = "desktop"


class _InstanceWatch:
    """The core's own hook implementation ("core is plugins"): an instance going down ends its
    desktop clients on every replica (``InstanceDesktopsEnded``)."""

    def __init__(self, service: DesktopService) -> None:
        self.service = service

    @hookimpl
    async def visa_instance_state_changed(self, event: InstanceEvent) -> None:
        if event.state in ENDING_STATES:
            message = InstanceDesktopsEnded(event.instance_id, event.state)
            await self.service.coordinator.send(message)


def desktop_service(app: Any) -> DesktopService:
    """The :class:`DesktopService` of a serving application."""
    service = app.extensions.get(EXTENSION_KEY)
    if service is None:
        raise RuntimeError("the desktop service is not running (the application is not serving)")
    return service  # type: ignore[no-any-return]


async def open_desktop(app: Any, state: Any, clock: Clock | None = None) -> DesktopService:
    """Build and start the service of ``app`` (its runtime ``state``), and take the gateway's
    ``vdi:access_reply`` and ``vdi:access_revoked`` events."""
    from visa_platform.api.ws.gateway import inbound_handlers

    service = DesktopService(
        sessions=state.sessions,
        broker=state.broker,
        plugins=state.plugins,
        settings=state.settings,
        clock=clock,
        clouds=state.clouds,
    )
    await service.start()
    # an owner's answer or revoke arrives on the gateway socket, perhaps on another replica
    # than the owner's desktop socket: it is carried to every replica, the right one acts
    handlers: dict[str, Callable[[str, str, Any], Awaitable[None]]] = inbound_handlers(app)
    carried = {
        "vdi:access_reply": service.on_access_reply,
        "vdi:access_revoked": service.on_access_revoked,
    }
    for event_type in carried:
        handlers[event_type] = carrier(state.broker, event_type)
    service.coordinator.keep(listen_client_events(state.broker, carried))
    state.plugins.register(_InstanceWatch(service), PLUGIN_NAME)
    app.extensions[EXTENSION_KEY] = service
    return service


async def close_desktop(app: Any) -> None:
    service: DesktopService | None = app.extensions.pop(EXTENSION_KEY, None)
    if service is not None:
        service.plugins.unregister(PLUGIN_NAME)
        await service.stop()


__all__ = [
    "CLOSE_CODES",
    "DesktopService",
    "close_desktop",
    "desktop_service",
    "open_desktop",
]
