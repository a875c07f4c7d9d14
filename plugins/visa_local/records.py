"""What the backend keeps on disk per instance, so that a restarted server finds its desktops.

``<state directory>/<instance id>/instance.json`` (written atomically), next to the VNC password
file, the X authority file, the session's home directory and the processes' log.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

RECORD = "instance.json"


@dataclass
class InstanceRecord:
    id: str
    name: str
    image_id: str
    flavour_id: str
    display: int
    address: str
    created_at: str
    width: int = 1280
    height: int = 1024
    #: "on" or "off": what the user asked for (processes follow it)
    power: str = "on"
    vnc_pid: int | None = None
    session_pid: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_at)


class RecordStore:
    """The instance records under one directory (only this server's user can read it)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)

    def directory(self, instance_id: str) -> Path:
        return self.root / instance_id

    def load(self, instance_id: str) -> InstanceRecord | None:
        path = self.directory(instance_id) / RECORD
        try:
            data = json.loads(path.read_text())
        except (FileNotFoundError, NotADirectoryError):
            return None
        except ValueError:
            return None  # half-written by a crash before the rename: never a valid instance
        known = {f.name for f in fields(InstanceRecord)}
        return InstanceRecord(**{k: v for k, v in data.items() if k in known})

    def all(self) -> list[InstanceRecord]:
        if not self.root.is_dir():
            return []
        found = (self.load(p.name) for p in sorted(self.root.iterdir()) if p.is_dir())
        return [r for r in found if r is not None]

    def save(self, record: InstanceRecord) -> None:
        directory = self.directory(record.id)
        directory.mkdir(mode=0o700, exist_ok=True)
        temporary = directory / f".{RECORD}.tmp"
        temporary.write_text(json.dumps(asdict(record), indent=1))
        temporary.replace(directory / RECORD)

    def private_file(self, instance_id: str, name: str, content: bytes) -> Path:
        """Write a file only the server's user can read (secrets)."""
        path = self.directory(instance_id) / name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        return path

    def read_private(self, instance_id: str, name: str) -> bytes | None:
        try:
            return (self.directory(instance_id) / name).read_bytes()
        except FileNotFoundError:
            return None


def as_dict(record: InstanceRecord) -> dict[str, Any]:
    return asdict(record)
