"""noVNC, installed from the npm registry (never copied into the repository).

The page's desktop view is noVNC's RFB client (plain ES modules). :func:`install` downloads the
pinned release's tarball from the npm registry, checks it against the registry's sha512
integrity (pinned here too), and unpacks its ``core/`` and ``vendor/`` folders under the data
directory. It runs once, in the background, when the server starts; the page says so while it
is missing.
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
from pathlib import Path

import httpx

log = logging.getLogger("visa_portal")

VERSION = "1.7.0"
TARBALL = f"https://registry.npmjs.org/@novnc/novnc/-/novnc-{VERSION}.tgz"
INTEGRITY = (
    "sha512-"
    "ucEJOx4T2avIRCleodk7YobZj5O2Ga2AeLfQ69A/yjG9HHba2+PDgwSkN3FttrmG+70ZGx21sElNFouK13RzyA=="
)
#: The folders of the package the page loads (``core/rfb.js`` and what it imports).
FOLDERS = ("core", "vendor")
MAX_SIZE = 20 * 1024 * 1024


class InstallError(Exception):
    """noVNC could not be downloaded or did not match its pinned integrity."""


def directory(data_dir: Path) -> Path:
    """Where this version of noVNC lives (``<data dir>/novnc/<version>``)."""
    return Path(data_dir).resolve() / "novnc" / VERSION


def installed(data_dir: Path) -> bool:
    return (directory(data_dir) / "core" / "rfb.js").is_file()


def verify(content: bytes, integrity: str = INTEGRITY) -> None:
    algorithm, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, content).digest()).decode()
    if digest != expected:
        raise InstallError(
            f"noVNC {VERSION}: the download does not match its {algorithm} integrity"
        )


def unpack(content: bytes, target: Path) -> None:
    """Extract the package's folders into ``target`` (atomically: all or nothing)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".novnc-", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
            members = [
                m
                for m in archive.getmembers()
                if m.name.startswith(tuple(f"package/{f}/" for f in FOLDERS))
            ]
            archive.extractall(staging, members=members, filter="data")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging / "package", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


async def install(
    data_dir: Path, *, url: str = TARBALL, integrity: str = INTEGRITY, within: float = 60.0
) -> Path:
    """Download, verify and unpack noVNC (a no-op when it is there); its directory."""
    target = directory(data_dir)
    if installed(data_dir):
        return target
    try:
        async with httpx.AsyncClient(timeout=within, follow_redirects=True) as client:
            response = await client.get(url)
            response.raise_for_status()
    except httpx.HTTPError as exc:
        raise InstallError(f"noVNC {VERSION}: cannot download {url}: {exc}") from exc
    if len(response.content) > MAX_SIZE:
        raise InstallError(f"noVNC {VERSION}: the download is larger than {MAX_SIZE} bytes")
    verify(response.content, integrity)
    await asyncio.to_thread(unpack, response.content, target)
    log.info("event=novnc_installed version=%s directory=%s", VERSION, target)
    return target
