"""Application-credential secrets: generation and verification.

VISA stored ``hex(BCrypt.generate(secret, salt, 4))`` (BouncyCastle's raw 24-byte output). Secrets
are 72 random alphanumerics (over 400 bits), so a salted SHA-256 is as safe and needs no extra
library; ours are stored as ``sha256$<hex>``. Rows carried over from the Java server (raw bcrypt)
are not accepted yet: re-create those credentials (see docs/accounts.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

PREFIX = "sha256$"
_ALPHANUMERIC = string.ascii_letters + string.digits


def random_alphanumeric(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def hash_secret(secret: str, salt: str) -> str:
    digest = hashlib.sha256(salt.encode() + b"\x00" + secret.encode()).hexdigest()
    return PREFIX + digest


def verify_secret(secret: str, salt: str, stored: str) -> bool:
    """Constant-time comparison of ``secret`` with the stored hash (False for unknown formats)."""
    if not stored.startswith(PREFIX):
        return False
    return hmac.compare_digest(hash_secret(secret, salt), stored)
