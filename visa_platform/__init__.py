"""visa-platform: the VISA API server and remote-desktop service, as a plugin-based platform."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("visa-platform")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
