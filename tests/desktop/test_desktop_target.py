"""Where the relay connects, with which login: the VISA PAM signature and the image's protocol."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from desktop_rig import OWNER, Desk
from sqlalchemy import select

from visa_platform.db.models import Image, Plan, Protocol
from visa_platform.desktop.signature import SignatureError, load_private_key, pam_signature


def write_key(path: Path) -> rsa.RSAPrivateKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return key


def verify(key: rsa.RSAPrivateKey, password: str) -> str:
    """The signed message of a VISA PAM password (raises if the signature is wrong)."""
    message, signature = password.split(";")
    key.public_key().verify(
        base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return message


def test_pam_signature_is_verifiable_with_the_public_key(tmp_path: Path) -> None:
    key = write_key(tmp_path / "key.pem")
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    password = pam_signature(load_private_key(tmp_path / "key.pem"), "ada", at)
    assert verify(key, password) == f"ada,{int(at.timestamp())}"
    with pytest.raises(SignatureError):
        load_private_key(tmp_path / "missing.pem")
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(SignatureError):
        load_private_key(tmp_path / "bad.pem")


async def test_a_visa_pam_image_logs_in_with_a_signature_over_its_protocol(
    desk: Desk, tmp_path: Path
) -> None:
    key = write_key(tmp_path / "key.pem")
    desk.service.settings = desk.service.settings.model_copy(
        update={"vdi_signature_private_key_path": tmp_path / "key.pem"}
    )
    async with desk.session() as db:
        vnc = await db.scalar(select(Protocol).where(Protocol.name == "VNC"))
        if vnc is None:
            vnc = Protocol(name="VNC", port=5900)
        image = Image(
            name="Desktop", icon="d.png", compute_id="img", autologin="VISA_PAM", visible=True
        )
        image.secondary_vdi_protocol = vnc
        plan = Plan(image=image, preset=True)
        db.add(plan)
        await db.commit()
        plan_id = plan.id
    await desk.set_instance(plan_id=plan_id, keyboard_layout="fr-fr-azerty")
    async with desk.connected(OWNER, "tab-ada"):
        handshake = desk.guacd.handshakes[0]
        assert handshake.selected == "vnc"  # the image's secondary protocol
        assert handshake.parameters["username"] == "ada"
        assert handshake.parameters["server-layout"] == "fr-fr-azerty"
        assert verify(key, handshake.parameters["password"]).startswith("ada,")
