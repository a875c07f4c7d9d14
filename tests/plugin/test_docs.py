"""Every hook is documented with its exact signature, and every hook has a test."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from visa_platform.plugin import hookspecs
from visa_platform.plugin.manager import hook_names

ROOT = Path(__file__).resolve().parents[2]
HOOKS_DOC = ROOT / "docs" / "plugins" / "hooks.md"


def signature(name: str) -> str:
    return f"{name}{inspect.signature(getattr(hookspecs, name))}".replace("'", "")


def test_there_are_hooks() -> None:
    assert len(hook_names()) >= 17


@pytest.mark.parametrize("name", hook_names())
def test_hook_is_documented_with_its_exact_signature(name: str) -> None:
    assert f"### `{signature(name)}`" in HOOKS_DOC.read_text(), (
        f"docs/plugins/hooks.md lacks the heading ### `{signature(name)}`"
    )


def test_documented_hooks_exist() -> None:
    documented = {
        line.split("`")[1].split("(")[0]
        for line in HOOKS_DOC.read_text().splitlines()
        if line.startswith("### `")
    }
    assert documented == set(hook_names())


def _test_function_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
    return names


@pytest.mark.parametrize("name", hook_names())
def test_hook_has_a_test(name: str) -> None:
    assert f"test_hook_{name}" in _test_function_names(), f"no test named test_hook_{name}"


def test_every_hookspec_states_how_results_combine() -> None:
    for name in hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert any(
            phrase in doc
            for phrase in (
                "First result wins",
                "All results are combined",
                "Event hook",
                "Registry hook",
                "Contribution hook",
            )
        ), name
