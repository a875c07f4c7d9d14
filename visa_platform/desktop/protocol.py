"""What a desktop protocol plugin provides: the wire protocol, nothing else.

A plugin registers a factory through ``visa_register_desktop_protocols``; the relay core calls it
once with the :class:`~visa_platform.config.Settings` and gets a :class:`DesktopProtocol`. The core
decides who may connect, with which role, to which session, and what happens when people come and
go; the protocol only:

* opens a :class:`RemoteDesktop` to the instance (a new one, or joining ``connection_id``), and
* splits the browser's frames into :class:`ClientInstruction` s and says what each one is.

Frames are ``str`` (text websockets, e.g. Guacamole) or ``bytes`` (binary, e.g. WebX or VNC).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

Frame = str | bytes


class DesktopConnectError(Exception):
    """The remote desktop could not be opened or joined (unreachable, refused, bad answer)."""


class BadClientFrame(ValueError):
    """The browser sent a frame the protocol cannot parse (or one that is too large)."""


class CloseWhy(enum.Enum):
    """Why the relay closes a browser's desktop socket (a protocol may word it its own way)."""

    ENDED = "ENDED"  # the desktop ended, or the client left normally
    DENIED = "DENIED"  # invalid ticket, no rights, refused by the owner
    OWNER_AWAY = "OWNER_AWAY"  # the owner is not connected (or left)
    REVOKED = "REVOKED"  # the owner revoked access, or the instance stopped
    UNREACHABLE = "UNREACHABLE"  # the desktop could not be opened or dropped
    BAD_INPUT = "BAD_INPUT"  # a malformed or oversized frame from the browser
    IDLE = "IDLE"  # no frame for too long, or no input for too long


class InstructionKind(enum.Enum):
    """What a browser instruction is, as far as the session rules care."""

    MOUSE = "MOUSE"
    KEYBOARD = "KEYBOARD"
    #: Only the owner may send it (screen resize, keyboard layout ...): dropped from others.
    OWNER_ONLY = "OWNER_ONLY"
    #: Between the browser and the relay only (tunnel pings): never forwarded.
    INTERNAL = "INTERNAL"
    #: Anything else (frame acknowledgements, clipboard, keep-alives): always forwarded.
    OTHER = "OTHER"


@dataclass(frozen=True)
class ClientInstruction:
    """One instruction from the browser: its exact bytes and what it is.

    ``reply`` is what the relay sends back to this browser at once (e.g. a tunnel ping echo).
    """

    data: Frame
    kind: InstructionKind
    reply: Frame | None = None


@dataclass(frozen=True)
class DesktopTarget:
    """Where and how to open an instance's desktop; built by the core from the database.

    ``port`` is the port of the protocol's own service on the instance (image protocol row, or
    the protocol's default). ``password`` is the VISA PAM signature when the image logs in with
    ``VISA_PAM``, else ``None``. ``secondary_protocol`` is the image's secondary VDI protocol name
    (``RDP``, ``VNC`` ...), if any.
    """

    instance_id: int
    host: str
    port: int
    username: str | None
    password: str | None
    screen_width: int
    screen_height: int
    keyboard_layout: str
    secondary_protocol: str | None = None
    #: Join this running connection instead of creating one.
    connection_id: str | None = None
    #: Secrets from the instance's compute backend (``desktop_credentials``), never seen by the
    #: browser.
    extra: dict[str, str] = field(default_factory=dict)
    #: What the browser's request told the protocol's route (e.g. WebX's ``client-version``):
    #: untrusted, validated by the route that passed it to ``DesktopService.serve``.
    client_options: dict[str, str] = field(default_factory=dict)


class RemoteDesktop(Protocol):
    """An open connection to the desktop for one browser client."""

    @property
    def connection_id(self) -> str:
        """The id that lets other clients join this desktop (stored in ``instance_session``)."""
        ...

    async def receive(self) -> Frame | None:
        """The next frame for the browser (whole instructions only), or ``None`` at the end.

        The first frame may be protocol-internal (Guacamole sends the tunnel id first).
        """
        ...

    async def send(self, data: Frame) -> None:
        """Write one browser instruction to the desktop."""
        ...

    async def close(self) -> None:
        """Say goodbye to the desktop (if it is still there) and close the connection."""
        ...


class ClientReader(Protocol):
    """Splits one browser socket's frames into instructions (it may keep partial state)."""

    def feed(self, frame: Frame) -> list[ClientInstruction]:
        """The whole instructions in ``frame``; :class:`BadClientFrame` when it is malformed."""
        ...


class DesktopProtocol(Protocol):
    """A remote-desktop wire protocol (``guacamole``, ``webx``, ``vnc`` ...).

    The core makes one instance per server (``factory(settings)``). A protocol holding
    process-wide resources may also define ``async def aclose(self) -> None``: the core calls it
    once, after the last client of the server has left.
    """

    #: The id stored in ``instance_session.protocol`` and used in the socket path.
    name: str
    #: The ``protocol`` (image protocol) row whose port the service listens on, e.g. ``GUACD``.
    port_protocol: str
    #: The port when the image has no such row.
    default_port: int
    #: What the relay sends every few seconds to keep the browser's socket alive; ``None`` for a
    #: stream that cannot carry one (raw RFB): the browser then only gets the desktop's frames.
    keepalive: Frame | None
    #: Whether the remote session outlives its last client (WebX yes, guacd no): when not, the
    #: ``instance_session`` row stops being current when its last member leaves.
    persistent_sessions: bool

    async def open(self, target: DesktopTarget) -> RemoteDesktop:
        """Open (or join ``target.connection_id``); :class:`DesktopConnectError` if it fails."""
        ...

    def client_reader(self) -> ClientReader:
        """A reader for a new browser socket."""
        ...

    def close_reason(self, why: CloseWhy) -> str:
        """The websocket close reason the protocol's browser client understands."""
        ...


__all__ = [
    "BadClientFrame",
    "ClientInstruction",
    "ClientReader",
    "CloseWhy",
    "DesktopConnectError",
    "DesktopProtocol",
    "DesktopTarget",
    "Frame",
    "InstructionKind",
    "RemoteDesktop",
]
