"""Server metadata and names as VISA passes them to the cloud (spec §3.2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def server_name(prefix: str, instance_id: int) -> str:
    """``<serverNamePrefix>-<instance id>``."""
    return f"{prefix}-{instance_id}"


def instance_metadata(
    *,
    instance_id: int,
    uid: str,
    owner: str,
    screen_width: int,
    screen_height: int,
    keyboard_layout: str,
    instruments: Iterable[str] = (),
    proposals: Iterable[str] = (),
    pam_public_key: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The metadata of a new server: every instance attribute, then VISA's own keys.

    All values are strings; ``instruments`` and ``proposals`` are comma-joined (order kept,
    duplicates dropped). ``pamPublicKey`` is present only when configured.
    """
    metadata: dict[str, str] = {str(k): str(v) for k, v in (attributes or {}).items()}
    metadata.update(
        {
            "id": str(instance_id),
            "uid": uid,
            "owner": owner,
            "screenWidth": str(screen_width),
            "screenHeight": str(screen_height),
            "keyboardLayout": keyboard_layout,
            "instruments": ",".join(dict.fromkeys(instruments)),
            "proposals": ",".join(dict.fromkeys(proposals)),
        }
    )
    if pam_public_key:
        metadata["pamPublicKey"] = pam_public_key
    return metadata


__all__ = ["instance_metadata", "server_name"]
