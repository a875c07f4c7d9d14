"""The VISA PAM signature: the desktop password of images that log in with ``VISA_PAM``.

``"<username>,<epochSeconds>;<base64(SHA256withRSA(privateKey, "<username>,<epochSeconds>"))>"``
with the PKCS#8 PEM key of ``VISA_VDI_SIGNATURE_PRIVATE_KEY_PATH`` (spec §1.6). The instance's PAM
module checks it with the public key handed over at creation.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

AUTOLOGIN_VISA_PAM = "VISA_PAM"


class SignatureError(Exception):
    """The private key is missing, unreadable or not an RSA key."""


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SignatureError(f"cannot read the VISA PAM private key {path}: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SignatureError(f"the VISA PAM private key {path} is not an RSA key")
    return key


def pam_signature(key: rsa.RSAPrivateKey, username: str, now: datetime) -> str:
    message = f"{username},{int(now.timestamp())}"
    signed = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{message};{base64.b64encode(signed).decode()}"


__all__ = ["AUTOLOGIN_VISA_PAM", "SignatureError", "load_private_key", "pam_signature"]
