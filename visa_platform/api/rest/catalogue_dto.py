"""Catalogue response shapes (spec/api.md §3.6, Appendix A): plans, images, flavours, experiments.

Every key is always emitted, nulls included. The builders read only relationships the services
load eagerly (see ``services.plans`` and ``services.experiments``); none triggers a query.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from visa_platform.db.models import (
    DevicePool,
    Experiment,
    Flavour,
    FlavourDevice,
    Image,
    Instrument,
    Plan,
    Proposal,
    Protocol,
)
from visa_platform.db.types import utcnow
from visa_platform.services.plans import FlavourAvailability


def _day(value: datetime | None) -> str | None:
    """``yyyy-MM-dd`` in UTC, as ExperimentDto formats its dates."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d")


def instrument_dto(instrument: Instrument) -> dict[str, Any]:
    """InstrumentDto ``{id, name}``."""
    return {"id": instrument.id, "name": instrument.name}


def proposal_dto(proposal: Proposal) -> dict[str, Any]:
    """ProposalDto ``{id, identifier, title, url, doi}``."""
    return {
        "id": proposal.id,
        "identifier": proposal.identifier,
        "title": proposal.title,
        "url": proposal.url,
        "doi": proposal.doi,
    }


def experiment_dto(experiment: Experiment) -> dict[str, Any]:
    """ExperimentDto; instrument and proposal must be loaded. Dates are days (``yyyy-MM-dd``)."""
    return {
        "id": experiment.id,
        "instrument": instrument_dto(experiment.instrument),
        "proposal": proposal_dto(experiment.proposal),
        "title": experiment.title,
        "url": experiment.url,
        "doi": experiment.doi,
        "startDate": _day(experiment.start_date),
        "endDate": _day(experiment.end_date),
    }


def image_protocol_dto(protocol: Protocol) -> dict[str, Any]:
    """ImageProtocol ``{id, name, port}``, in that key order."""
    return {"id": protocol.id, "name": protocol.name, "port": protocol.port}


def image_dto(image: Image) -> dict[str, Any]:
    """ImageDto; protocols and the default VDI protocol must be loaded.

    VISA quirk kept for the portal: ``secondaryVdiProtocol`` carries the *default* protocol (the
    image's real secondary protocol is what guacd tunnels to, not a choice for the user).
    """
    default = image.default_vdi_protocol
    default_dto = image_protocol_dto(default) if default is not None else None
    return {
        "id": image.id,
        "name": image.name,
        "version": image.version,
        "description": image.description,
        "icon": image.icon,
        "protocols": [image_protocol_dto(p) for p in image.protocols],
        "defaultVdiProtocol": default_dto,
        "secondaryVdiProtocol": dict(default_dto) if default_dto is not None else None,
    }


def device_pool_dto(pool: DevicePool) -> dict[str, Any]:
    """The device pool of a FlavourDeviceDto ``{id, name, description}``."""
    return {"id": pool.id, "name": pool.name, "description": pool.description}


def flavour_device_dto(device: FlavourDevice) -> dict[str, Any]:
    """FlavourDeviceDto ``{devicePool, unitCount}``; the pool must be loaded."""
    return {"devicePool": device_pool_dto(device.device_pool), "unitCount": device.unit_count}


def flavour_dto(
    flavour: Flavour,
    lifetime_minutes: int | None = None,
    availability: FlavourAvailability | None = None,
) -> dict[str, Any]:
    """FlavourDto; devices (with pools) must be loaded.

    Without ``availability`` (outside ``/plans``) the flavour is available since now, as VISA
    reports it there.
    """
    if availability is None:
        availability = FlavourAvailability(available=True, available_at=utcnow())
    return {
        "id": flavour.id,
        "name": flavour.name,
        "memory": flavour.memory,
        "cpu": float(flavour.cpu),
        "devices": [
            flavour_device_dto(d) for d in sorted(flavour.devices, key=lambda d: d.device_pool_id)
        ],
        "available": availability.available,
        "availableAt": availability.available_at,
        "lifetimeMinutes": lifetime_minutes,
    }


def plan_dto(
    plan: Plan,
    lifetime_minutes: int | None = None,
    *,
    availability: FlavourAvailability | None = None,
) -> dict[str, Any]:
    """PlanDto ``{id, image, flavour, preset}`` for a plan loaded by ``services.plans``."""
    if plan.image is None or plan.flavour is None:
        raise ValueError(f"plan {plan.id} has no image or flavour")
    return {
        "id": plan.id,
        "image": image_dto(plan.image),
        "flavour": flavour_dto(plan.flavour, lifetime_minutes, availability),
        "preset": bool(plan.preset),
    }
