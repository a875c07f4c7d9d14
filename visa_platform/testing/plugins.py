"""Install throwaway plugin distributions for a test, with real entry points.

``PluginSite.install`` writes the plugin's modules and a ``*.dist-info`` folder with its
``entry_points.txt`` into a temporary directory placed on ``sys.path``, so that discovery goes
through ``importlib.metadata`` and stevedore exactly as for a pip-installed plugin.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
import tomllib
from pathlib import Path


class PluginSite:
    """A temporary site directory for plugin distributions (see the ``plugin_site`` fixture)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: set[str] = set()
        root.mkdir(parents=True, exist_ok=True)

    def install(
        self,
        distribution: str,
        *,
        entry_points: dict[str, str],
        modules: dict[str, str],
        version: str = "1.0.0",
        group: str = "visa_platform",
    ) -> None:
        """Install ``distribution``: ``modules`` maps dotted module names to source code."""
        for dotted, source in modules.items():
            path = self.root.joinpath(*dotted.split(".")).with_suffix(".py")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
            self.modules.add(dotted.split(".")[0])
        info = self.root / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
        )
        lines = [f"[{group}]"] + [f"{name} = {target}" for name, target in entry_points.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")

    def install_project(self, project_dir: Path, group: str = "visa_platform") -> str:
        """Install a plugin project from its source tree (``pyproject.toml`` + packages), as
        ``pip install`` would for this purpose: its packages and its entry points. Returns the
        distribution name. Dependencies are not installed.
        """
        project = tomllib.loads((project_dir / "pyproject.toml").read_text())["project"]
        for package in project_dir.iterdir():
            if (package / "__init__.py").is_file():
                shutil.copytree(
                    package, self.root / package.name, ignore=shutil.ignore_patterns("__pycache__")
                )
                self.modules.add(package.name)
        self.install(
            project["name"],
            version=project.get("version", "0"),
            entry_points=dict(project.get("entry-points", {}).get(group, {})),
            modules={},
            group=group,
        )
        return str(project["name"])

    def forget_modules(self) -> None:
        """Drop the installed modules from ``sys.modules`` (so the next test imports afresh)."""
        for name in list(sys.modules):
            if name.split(".")[0] in self.modules:
                del sys.modules[name]
