"""The ``local`` backend's parameters (cloud parameters, or ``VISA_CLOUD_*`` for the default)."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visa_platform.compute import BackendConfig, CloudConfigurationError, CloudFlavour

#: Debian packages that provide the binaries the backend runs.
BINARIES = {
    "Xtigervnc": "tigervnc-standalone-server",
    "tigervncpasswd": "tigervnc-tools",
    "xauth": "xauth",
}

DEFAULT_IMAGES = [{"id": "xterm", "name": "Terminal (xterm)", "command": "xterm"}]
DEFAULT_FLAVOURS = [{"id": "small", "name": "Small", "cpus": 1, "ram": 1024}]


@dataclass(frozen=True)
class LocalImage:
    """An image: the session command run on the instance's display (``sh -c``)."""

    id: str
    name: str
    command: str


@dataclass(frozen=True)
class LocalSettings:
    state_directory: Path
    images: tuple[LocalImage, ...]
    flavours: tuple[CloudFlavour, ...]
    max_instances: int
    #: Instances get addresses ``<network>.1`` upwards (one loopback address each).
    network: ipaddress.IPv4Network
    vnc_port: int
    first_display: int
    start_timeout: float
    binaries: dict[str, str]

    @classmethod
    def from_config(cls, config: BackendConfig) -> LocalSettings:
        p = config.parameters
        binaries = find_binaries()
        network = _network(p.get("network", "127.77.0.0/16"))
        return cls(
            state_directory=Path(
                p.get("stateDirectory")
                or config.state_directory
                or Path(tempfile.gettempdir()) / f"visa-local-{os.getuid()}"
            ),
            images=tuple(_images(p.get("images"))),
            flavours=tuple(_flavours(p.get("flavours"))),
            max_instances=_positive(p, "maxInstances", 8),
            network=network,
            vnc_port=_positive(p, "vncPort", 5900),
            first_display=_positive(p, "firstDisplay", 100),
            start_timeout=float(_positive(p, "startTimeoutSeconds", 20)),
            binaries=binaries,
        )

    def image(self, image_id: str) -> LocalImage | None:
        return next((i for i in self.images if i.id == image_id), None)

    def flavour(self, flavour_id: str) -> CloudFlavour | None:
        return next((f for f in self.flavours if f.id == flavour_id), None)


def find_binaries() -> dict[str, str]:
    """Path of each binary; one clear error naming the Debian packages of the missing ones."""
    found = {name: shutil.which(name) for name in BINARIES}
    missing = sorted({BINARIES[name] for name, path in found.items() if path is None})
    if missing:
        raise CloudConfigurationError(
            "the local compute backend needs TigerVNC and xauth on this host: "
            f"apt-get install {' '.join(missing)}",
            user_message="This server cannot run local desktops; contact an administrator.",
        )
    return {name: path for name, path in found.items() if path}


def _load(name: str, value: str | None, default: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if value is None:
        return default
    try:
        loaded = json.loads(value)
    except ValueError as exc:
        raise CloudConfigurationError(f"local backend {name}: not JSON ({exc})") from exc
    if not isinstance(loaded, list) or not loaded or not all(isinstance(i, dict) for i in loaded):
        raise CloudConfigurationError(f"local backend {name}: a non-empty JSON list of objects")
    return loaded


def _images(value: str | None) -> list[LocalImage]:
    images = []
    for item in _load("images", value, DEFAULT_IMAGES):
        if not all(isinstance(item.get(k), str) and item[k] for k in ("id", "command")):
            raise CloudConfigurationError(f"local backend images: {item} needs id and command")
        images.append(LocalImage(item["id"], str(item.get("name") or item["id"]), item["command"]))
    return images


def _flavours(value: str | None) -> list[CloudFlavour]:
    flavours = []
    for item in _load("flavours", value, DEFAULT_FLAVOURS):
        try:
            flavours.append(
                CloudFlavour(
                    id=str(item["id"]),
                    name=str(item.get("name") or item["id"]),
                    cpus=float(item["cpus"]),
                    ram=int(item["ram"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CloudConfigurationError(
                f"local backend flavours: {item} needs id, cpus and ram"
            ) from exc
    return flavours


def _positive(parameters: Any, key: str, default: int) -> int:
    raw = parameters.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise CloudConfigurationError(f"local backend {key}: a positive integer, not {raw!r}")
    return value


def _network(value: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError as exc:
        raise CloudConfigurationError(f"local backend network: {exc}") from exc
    if not network.subnet_of(ipaddress.IPv4Network("127.0.0.0/8")) or network.num_addresses < 4:
        raise CloudConfigurationError(
            f"local backend network {value}: must be a loopback network (in 127.0.0.0/8)"
        )
    return network
