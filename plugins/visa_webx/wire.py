"""The WebX wire: binary instruction and message headers, and the router's text requests.

Browser instructions (webx-client) start with a 20-byte prefix the relay overwrites: the session
id (16 bytes) and the client id (int32 little-endian); the instruction type is the int32 LE at
byte 20. Engine messages start with a 48-byte header: session id (0-15), the bitmask of the
client indexes it is for (16-23, LE), a timestamp (24-31) and the message type (32-35).
Spec: desktop-security-cloud.md §1.7 and §1.9.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass

#: Length of an engine message header; a NOP is a header of zeros.
MESSAGE_HEADER = 48
#: Where the relay writes the session id and client id in a browser instruction.
INSTRUCTION_PREFIX = 20
#: The shortest browser instruction: the prefix and the type.
MIN_INSTRUCTION = INSTRUCTION_PREFIX + 4
TYPE_OFFSET = 20

#: Instruction types (int32 LE at byte 20) the session rules care about.
MOUSE = 5
KEYBOARD = 6
SCREEN_RESIZE = 13
KEYBOARD_LAYOUT = 14

#: Engine message types the relay looks at.
CONNECTION_MESSAGE = 1
DISCONNECT_MESSAGE = 9

#: The keep-alive the browser understands: an all-zero message header.
NOP = bytes(MESSAGE_HEADER)

#: Session creation status in the router's replies.
STARTING = 0
RUNNING = 1

#: Error codes of ``create`` / ``create_async``.
CREATE_ERRORS = {1: "invalid parameters", 2: "creation error", 3: "authentication error"}

#: Guacamole layout names (VISA's instance keyboard layouts) to WebX / X keyboard names; unknown
#: layouts pass through unchanged.
KEYBOARDS = {
    "en-gb-qwerty": "gb",
    "en-us-qwerty": "us",
    "fr-fr-azerty": "fr",
    "de-de-qwertz": "de",
    "fr-be-azerty": "be",
    "fr-ch-qwertz": "ch(fr)",
    "hu-hu-qwertz": "hu",
    "it-it-qwerty": "it",
    "ja-jp-qwerty": "jp",
    "pt-br-qwerty": "br",
    "es-es-qwerty": "es",
    "es-latam-qwerty": "latam",
    "sv-se-qwerty": "se",
    "tr-tr-qwerty": "tr",
    "da-dk-qwerty": "dk",
    "de-ch-qwertz": "ch(de)",
    "no-no-qwerty": "no",
}

SESSION_ID = re.compile(r"[0-9a-fA-F]{32}")
#: What a ``client-version`` query parameter may be (it travels in a comma-separated request).
CLIENT_VERSION = re.compile(r"[0-9A-Za-z.+_-]{1,32}")
DEFAULT_CLIENT_VERSION = "0.0.0"


class WireError(ValueError):
    """The router answered something this relay cannot understand."""


def keyboard(layout: str) -> str:
    return KEYBOARDS.get(layout, layout)


def client_version(raw: str | None) -> str:
    """The browser's ``client-version``, or ``0.0.0`` when absent or not a version string."""
    if raw and CLIENT_VERSION.fullmatch(raw):
        return raw
    return DEFAULT_CLIENT_VERSION


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def create_request(
    command: str,
    username: str,
    password: str,
    width: int,
    height: int,
    keyboard_name: str,
    parameters: Mapping[str, str],
) -> str:
    """``create_async`` (or legacy ``create``) with base64 credentials and ``k=v`` engine params."""
    parts = [command, b64(username), b64(password), str(width), str(height), keyboard_name]
    parts += [f"{key}={value}" for key, value in parameters.items()]
    return ",".join(parts)


@dataclass(frozen=True)
class Ports:
    """The router's ``comm`` answer."""

    publisher: int
    collector: int
    session: int
    server_key: str  # Z85, 40 characters


def parse_comm(reply: str) -> Ports:
    parts = reply.split(",")
    try:
        if len(parts) != 4 or len(parts[3]) != 40:
            raise ValueError(reply)
        return Ports(int(parts[0]), int(parts[1]), int(parts[2]), parts[3])
    except ValueError as exc:
        raise WireError(f"unexpected 'comm' answer {reply[:80]!r}") from exc


def parse_creation(reply: str) -> tuple[str, int]:
    """``0,<sessionId>[,<status>]`` → (session id, status); an error code raises."""
    parts = reply.split(",")
    try:
        code = int(parts[0])
    except ValueError as exc:
        raise WireError(f"unexpected session creation answer {reply[:80]!r}") from exc
    if code != 0:
        raise WireError(
            f"session creation refused: {CREATE_ERRORS.get(code, 'error')} (code {code})"
        )
    if len(parts) < 2 or not SESSION_ID.fullmatch(parts[1]):
        raise WireError(f"unexpected session creation answer {reply[:80]!r}")
    status = RUNNING
    if len(parts) > 2:
        try:
            status = int(parts[2])
        except ValueError as exc:
            raise WireError(f"unexpected session status in {reply[:80]!r}") from exc
    return parts[1].lower(), status


def parse_status(reply: str) -> int:
    """``<sessionId>,<status>``; an empty answer (a router without ``status``) means running."""
    if reply == "":
        return RUNNING
    parts = reply.split(",")
    try:
        status = int(parts[1]) if len(parts) >= 2 else -1
    except ValueError:
        status = -1
    if status not in (STARTING, RUNNING):
        raise WireError(f"the session is unknown to the router ({reply[:80]!r})")
    return status


def parse_connect(reply: str) -> tuple[int, int]:
    """``<clientIdHex>,<clientIndexHex>`` → (client id, index bitmask); empty: refused."""
    parts = reply.split(",")
    if reply == "" or len(parts) != 2:
        raise WireError(f"the router refused the client ({reply[:80]!r})")
    try:
        return int(parts[0], 16), int(parts[1], 16)
    except ValueError as exc:
        raise WireError(f"unexpected 'connect' answer {reply[:80]!r}") from exc


def instruction_type(frame: bytes) -> int:
    return int.from_bytes(frame[TYPE_OFFSET : TYPE_OFFSET + 4], "little")


def patch_instruction(frame: bytes, session_id: bytes, client_id: int) -> bytes:
    """The browser's instruction with this relay's session id (0-15) and client id (16-19)."""
    return session_id + client_id.to_bytes(4, "little") + frame[INSTRUCTION_PREFIX:]


def message_session(message: bytes) -> bytes:
    return message[:16]


def message_mask(message: bytes) -> int:
    return int.from_bytes(message[16:24], "little")


def message_type(message: bytes) -> int:
    return int.from_bytes(message[32:36], "little")


def connection_message(starting: bool) -> bytes:
    """The relay's own "connection" message (type 1); its 4-byte body says "still starting"."""
    header = bytearray(MESSAGE_HEADER)
    header[32:36] = CONNECTION_MESSAGE.to_bytes(4, "little")
    return bytes(header) + (1 if starting else 0).to_bytes(4, "little")
