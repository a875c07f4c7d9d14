"""guacamole-common-js, installed from the npm registry (never copied into the repository).

The page's viewer for Guacamole desktops (every image protocol but ``VNC``, as in visa-web) is
Apache Guacamole's JavaScript client. The npm package ``guacamole-common-js`` 1.5.0 (the newest
on the registry: a repackaging of Apache's 1.5.0 client) ships it as one ES module,
``dist/esm/guacamole-common.js``; it is unpacked under
``<data dir>/guacamole-common-js/<version>/`` by :class:`visa_portal.npm.NpmPackage`.
"""

from __future__ import annotations

from visa_portal.npm import NpmPackage

VERSION = "1.5.0"
INTEGRITY = (
    "sha512-"
    "zxztif3GGhKbg1RgOqwmqot8kXgv2HmHFg1EvWwd4q7UfEKvBcYZ0f+7G8HzvU+FUxF0Psqm9Kl5vCbgfrRgJg=="
)
#: The module the page imports (its default export is the ``Guacamole`` namespace).
MODULE = "dist/esm/guacamole-common.js"
PACKAGE = NpmPackage(
    name="guacamole-common-js",
    label="guacamole-common-js",
    version=VERSION,
    integrity=INTEGRITY,
    folders=("dist/esm",),
    marker=MODULE,
    directory_name="guacamole-common-js",
)

__all__ = ["INTEGRITY", "MODULE", "PACKAGE", "VERSION"]
