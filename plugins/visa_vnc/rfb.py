"""The RFB (VNC) handshake up to authentication, as a client: what the VNC relay does for the
browser so that the browser never sees the instance's VNC password.

RFB 3.8 (RFC 6143 §7.1-§7.2): protocol version, security types, VNC authentication
(DES of a 16-byte challenge with the password, each key byte bit-reversed), security result.
"""

from __future__ import annotations

import asyncio

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

VERSION = b"RFB 003.008\n"
NONE, VNC_AUTHENTICATION = 1, 2


class RfbError(Exception):
    """The VNC server refused us or spoke something else than RFB 3.8."""


def _reverse_bits(byte: int) -> int:
    return int(f"{byte:08b}"[::-1], 2)


def vnc_auth_response(password: str, challenge: bytes) -> bytes:
    """The answer to a VNC authentication challenge (DES, key = password's first 8 bytes)."""
    key = bytes(_reverse_bits(b) for b in password.encode()[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key), modes.ECB()).encryptor()
    return encryptor.update(challenge) + encryptor.finalize()


async def authenticate(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, password: str | None
) -> None:
    """Run the client side of the handshake until the security result (success)."""
    version = await reader.readexactly(12)
    if not version.startswith(b"RFB 003."):
        raise RfbError(f"not a VNC server: {version!r}")
    writer.write(VERSION)
    count = (await reader.readexactly(1))[0]
    if count == 0:
        length = int.from_bytes(await reader.readexactly(4), "big")
        raise RfbError((await reader.readexactly(length)).decode(errors="replace"))
    offered = set(await reader.readexactly(count))
    if VNC_AUTHENTICATION in offered and password is not None:
        writer.write(bytes([VNC_AUTHENTICATION]))
        challenge = await reader.readexactly(16)
        writer.write(vnc_auth_response(password, challenge))
    elif NONE in offered:
        writer.write(bytes([NONE]))
    else:
        raise RfbError(f"no usable security type in {sorted(offered)}")
    await writer.drain()
    if int.from_bytes(await reader.readexactly(4), "big") != 0:
        raise RfbError("VNC authentication failed")
