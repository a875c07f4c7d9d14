"""noVNC, installed from the npm registry (never copied into the repository).

The page's viewer for ``VNC`` desktops is noVNC's RFB client (plain ES modules): the pinned
release's ``core/`` and ``vendor/`` folders, unpacked under ``<data dir>/novnc/<version>/`` by
:class:`visa_portal.npm.NpmPackage`.
"""

from __future__ import annotations

from pathlib import Path

from visa_portal.npm import MAX_SIZE, InstallError, NpmPackage

VERSION = "1.7.0"
INTEGRITY = (
    "sha512-"
    "ucEJOx4T2avIRCleodk7YobZj5O2Ga2AeLfQ69A/yjG9HHba2+PDgwSkN3FttrmG+70ZGx21sElNFouK13RzyA=="
)
#: The folders of the package the page loads (``core/rfb.js`` and what it imports).
FOLDERS = ("core", "vendor")
PACKAGE = NpmPackage(
    name="@novnc/novnc",
    label="noVNC",
    version=VERSION,
    integrity=INTEGRITY,
    folders=FOLDERS,
    marker="core/rfb.js",
    directory_name="novnc",
)
TARBALL = PACKAGE.tarball


def directory(data_dir: Path) -> Path:
    """Where this version of noVNC lives (``<data dir>/novnc/<version>``)."""
    return PACKAGE.directory(data_dir)


def installed(data_dir: Path) -> bool:
    return PACKAGE.installed(data_dir)


def verify(content: bytes, integrity: str = INTEGRITY) -> None:
    PACKAGE.verify(content, integrity)


async def install(
    data_dir: Path, *, url: str = TARBALL, integrity: str = INTEGRITY, within: float = 60.0
) -> Path:
    """Download, verify and unpack noVNC (a no-op when it is there); its directory."""
    return await PACKAGE.install(data_dir, url=url, integrity=integrity, within=within)


__all__ = ["MAX_SIZE", "PACKAGE", "VERSION", "InstallError", "directory", "install", "installed"]
