"""The ``guacamole`` desktop protocol: guacd on the instance, text frames to the browser."""

from __future__ import annotations

from visa_guacamole import guacd
from visa_guacamole.wire import InstructionScanner, WireError, encode, parse, split
from visa_platform.config import Settings
from visa_platform.desktop.protocol import (
    BadClientFrame,
    ClientInstruction,
    CloseWhy,
    DesktopConnectError,
    DesktopTarget,
    Frame,
    InstructionKind,
)

#: Guacamole status codes the JavaScript client reads from the close reason.
STATUS = {
    CloseWhy.ENDED: "",
    CloseWhy.DENIED: "769",  # CLIENT_UNAUTHORIZED
    CloseWhy.OWNER_AWAY: "771",  # CLIENT_FORBIDDEN
    CloseWhy.REVOKED: "771",
    CloseWhy.UNREACHABLE: "520",  # UPSTREAM_UNAVAILABLE
    CloseWhy.BAD_INPUT: "768",  # CLIENT_BAD_REQUEST
    CloseWhy.IDLE: "776",  # CLIENT_TIMEOUT
}
KINDS = {
    "mouse": InstructionKind.MOUSE,
    "key": InstructionKind.KEYBOARD,
    # a screen resize changes everyone's desktop: the owner's to ask for (issue #6)
    "size": InstructionKind.OWNER_ONLY,
}
#: Instructions from the browser longer than this are refused (clipboard comes in blobs).
MAX_CLIENT_INSTRUCTION = 64 * 1024
#: guacd protocols an image's secondary VDI protocol may choose instead of the default.
SECONDARY_PROTOCOLS = {"RDP": "rdp", "VNC": "vnc"}


class ClientReader:
    """The browser's instructions, classified; tunnel pings are echoed, never forwarded."""

    def __init__(self) -> None:
        self._scanner = InstructionScanner(MAX_CLIENT_INSTRUCTION)

    def feed(self, frame: Frame) -> list[ClientInstruction]:
        if isinstance(frame, bytes):
            try:
                frame = frame.decode()
            except UnicodeDecodeError as exc:
                raise BadClientFrame("not UTF-8") from exc
        try:
            instructions = split(self._scanner.feed(frame))
            out = []
            for raw in instructions:
                opcode = raw[raw.index(".") + 1 : raw.index(".") + 1 + int(raw[: raw.index(".")])]
                if opcode == "":
                    elements = parse(raw)
                    reply = raw if len(elements) > 1 and elements[1] == "ping" else None
                    out.append(ClientInstruction(raw, InstructionKind.INTERNAL, reply))
                else:
                    out.append(ClientInstruction(raw, KINDS.get(opcode, InstructionKind.OTHER)))
            return out
        except (WireError, ValueError) as exc:
            raise BadClientFrame(str(exc)) from exc


class GuacamoleProtocol:
    """guacd at the instance's ``GUACD`` port (4822), RDP or VNC behind it."""

    name = "guacamole"
    port_protocol = "GUACD"
    default_port = 4822
    keepalive: Frame | None = encode("nop")
    #: guacd ends a connection when its last user leaves.
    persistent_sessions = False

    def __init__(self, settings: Settings, timeout: float = guacd.TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout

    def handshake(self, target: DesktopTarget) -> guacd.Handshake:
        """``select`` and parameters (spec §1.6): joining sends only the hostname."""
        if target.connection_id is not None:
            return guacd.Handshake(
                select=target.connection_id,
                parameters={"hostname": target.host},
                width=target.screen_width,
                height=target.screen_height,
            )
        configured = self.settings.guacd_parameters()
        protocol = configured.pop("protocol")
        protocol = SECONDARY_PROTOCOLS.get((target.secondary_protocol or "").upper(), protocol)
        parameters = {"hostname": target.host, "server-layout": target.keyboard_layout}
        if target.username:
            parameters["username"] = target.username
        if target.password:
            parameters["password"] = target.password
        parameters.update(configured)
        parameters.update(target.extra)
        return guacd.Handshake(
            select=protocol,
            parameters=parameters,
            width=target.screen_width,
            height=target.screen_height,
        )

    async def open(self, target: DesktopTarget) -> guacd.GuacdConnection:
        return await guacd.connect(target.host, target.port, self.handshake(target), self.timeout)

    def client_reader(self) -> ClientReader:
        return ClientReader()

    def close_reason(self, why: CloseWhy) -> str:
        return self.close_reason_for(why)

    @staticmethod
    def close_reason_for(why: CloseWhy) -> str:
        """The Guacamole status code guacamole-common-js reads from the close reason."""
        return STATUS[why]


__all__ = ["DesktopConnectError", "GuacamoleProtocol"]
