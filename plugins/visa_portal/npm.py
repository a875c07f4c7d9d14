"""Browser libraries installed from the npm registry (never copied into the repository).

A :class:`NpmPackage` names a pinned release: :meth:`NpmPackage.install` downloads its tarball
from the npm registry, checks it against the registry's sha512 integrity (pinned here too), and
unpacks the folders the page loads under ``<data dir>/<directory>/<version>/`` (atomically: all
or nothing). The portal starts it in the background the first time a signed-in page asks
``/portal/status``; a machine without access to the registry can unpack the same tarball there
by hand.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import logging
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

log = logging.getLogger("visa_portal")

REGISTRY = "https://registry.npmjs.org"
MAX_SIZE = 20 * 1024 * 1024


class InstallError(Exception):
    """A package could not be downloaded or did not match its pinned integrity."""


@dataclass(frozen=True)
class NpmPackage:
    """A pinned npm release and the part of it the page uses."""

    name: str  # the npm name, e.g. "@novnc/novnc"
    label: str  # for messages, e.g. "noVNC"
    version: str
    integrity: str  # the registry's dist.integrity ("sha512-<base64>")
    folders: tuple[str, ...]  # folders of the package to unpack, e.g. ("core", "vendor")
    marker: str  # a file whose presence means "installed", e.g. "core/rfb.js"
    directory_name: str  # under the data directory, e.g. "novnc"

    @property
    def tarball(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"

    def directory(self, data_dir: Path) -> Path:
        """Where this version lives (``<data dir>/<directory name>/<version>``)."""
        return Path(data_dir).resolve() / self.directory_name / self.version

    def installed(self, data_dir: Path) -> bool:
        return (self.directory(data_dir) / self.marker).is_file()

    def verify(self, content: bytes, integrity: str | None = None) -> None:
        algorithm, _, expected = (integrity or self.integrity).partition("-")
        digest = base64.b64encode(hashlib.new(algorithm, content).digest()).decode()
        if digest != expected:
            raise InstallError(
                f"{self.label} {self.version}: the download does not match its {algorithm} "
                "integrity"
            )

    def unpack(self, content: bytes, target: Path) -> None:
        """Extract the package's folders into ``target`` (atomically: all or nothing)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.directory_name}-", dir=target.parent))
        prefixes = tuple(f"package/{folder}/" for folder in self.folders)
        try:
            with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
                members = [m for m in archive.getmembers() if m.name.startswith(prefixes)]
                archive.extractall(staging, members=members, filter="data")
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging / "package", target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    async def install(
        self,
        data_dir: Path,
        *,
        url: str | None = None,
        integrity: str | None = None,
        within: float = 60.0,
    ) -> Path:
        """Download, verify and unpack the package (a no-op when it is there); its directory."""
        target = self.directory(data_dir)
        if self.installed(data_dir):
            return target
        url = url or self.tarball
        try:
            async with httpx.AsyncClient(timeout=within, follow_redirects=True) as client:
                response = await client.get(url)
                response.raise_for_status()
        except httpx.HTTPError as exc:
            raise InstallError(
                f"{self.label} {self.version}: cannot download {url}: {exc}"
            ) from exc
        if len(response.content) > MAX_SIZE:
            raise InstallError(
                f"{self.label} {self.version}: the download is larger than {MAX_SIZE} bytes"
            )
        self.verify(response.content, integrity)
        await asyncio.to_thread(self.unpack, response.content, target)
        log.info(
            "event=npm_package_installed package=%s version=%s directory=%s",
            self.name,
            self.version,
            target,
        )
        return target


__all__ = ["MAX_SIZE", "REGISTRY", "InstallError", "NpmPackage"]
