"""The port check (spec/domain.md §2.4): ACTIVE vs PARTIALLY_ACTIVE vs STARTING."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from visa_platform.db.models import Image, Instance, Protocol
from visa_platform.domain.enums import InstanceState
from visa_platform.services.instances import default_vdi_protocol

PortProbe = Callable[[str, int, float], Awaitable[bool]]


async def tcp_port_open(host: str, port: int, seconds: float) -> bool:
    """True when a TCP connection to ``host:port`` succeeds within ``seconds``."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), seconds)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


@dataclass(frozen=True)
class PortCheck:
    """The outcome: the state, and the image protocols found open (``None``: not touched)."""

    state: InstanceState
    active_protocols: str | None


def required_vdi_protocols(
    instance: Instance, image: Image, preference: str, rdp: Protocol | None
) -> list[Protocol]:
    """The VDI protocol, plus for GUACD the image's secondary protocol (or else ``RDP``)."""
    return required_protocols(instance.vdi_protocol, image, preference, rdp)


def required_protocols(
    chosen: Protocol | None, image: Image, preference: str, rdp: Protocol | None
) -> list[Protocol]:
    """:func:`required_vdi_protocols` for an instance whose VDI protocol is ``chosen``."""
    vdi = chosen or default_vdi_protocol(image, preference)
    if vdi is None:
        return []
    required = [vdi]
    if vdi.name == "GUACD":
        secondary = image.secondary_vdi_protocol or rdp
        if secondary is not None:
            required.append(secondary)
    return required


async def check_ports(
    instance: Instance,
    image: Image,
    *,
    preference: str,
    rdp: Protocol | None,
    seconds: float,
    probe: PortProbe = tcp_port_open,
) -> PortCheck:
    """Probe the instance's protocols (each port once, concurrently)."""
    host = instance.ip_address
    required = required_vdi_protocols(instance, image, preference, rdp)
    if not host:
        return PortCheck(InstanceState.STARTING, None)
    ports = ports_to_probe(required, image)
    results = await asyncio.gather(*(probe(host, port, seconds) for port in ports))
    return port_check_outcome(
        required, image, {port for port, ok in zip(ports, results, strict=True) if ok}
    )


def ports_to_probe(required: list[Protocol], image: Image) -> list[int]:
    """The ports a check probes: the required VDI protocols' and every image protocol's."""
    return sorted({p.port for p in required} | {p.port for p in image.protocols})


def port_check_outcome(required: list[Protocol], image: Image, open_ports: set[int]) -> PortCheck:
    """The state the open ports give (§2.4)."""
    if not all(p.port in open_ports for p in required):
        return PortCheck(InstanceState.STARTING, None)
    names = [p.name for p in image.protocols if p.port in open_ports]
    state = (
        InstanceState.ACTIVE
        if len(names) == len(image.protocols)
        else InstanceState.PARTIALLY_ACTIVE
    )
    return PortCheck(state, ",".join(names))


__all__ = [
    "PortCheck",
    "PortProbe",
    "check_ports",
    "port_check_outcome",
    "ports_to_probe",
    "required_protocols",
    "required_vdi_protocols",
    "tcp_port_open",
]
