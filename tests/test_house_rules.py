"""The house rules held by tools: lint, types of the core, layering and security lint.

Each tool runs from this virtualenv (the test extras install them) and fails the suite like a test,
with the tool's own report as the failure message. Configuration lives in pyproject.toml.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, require

ROOT = Path(__file__).resolve().parent.parent
# The packages mypy checks strictly: the core, and the edges brought to zero errors so far.
TYPED = ["core", "radius", "pam_module"]
# The top-level folders that setup.py maps into the ``tesserad`` namespace.
SHIPPED = ["_tesserad", "core", "radius", "pam_module", "admin_web", "daemon"]


def run_tool(name: str, *args: str, env: dict[str, str] | None = None) -> None:
    tool = BIN / name
    require(tool.exists(), f"{name} is not installed (pip install -e '.[test]')")
    done = subprocess.run(
        [str(tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, f"{name} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def package_tree() -> Path:
    """A folder holding ``tesserad/`` as it is installed, made of symlinks to the source folders.

    The editable install maps the folders through an import hook that mypy and grimp do not
    follow; a real tree on the path does. It lives in build/ so mypy's cache stays valid.
    """
    tree = ROOT / "build" / "house-rules"
    package = tree / "tesserad"
    package.mkdir(parents=True, exist_ok=True)
    links = {"__init__.py": ROOT / "_tesserad" / "__init__.py"}
    links.update({folder: ROOT / folder for folder in SHIPPED[1:]})
    for name, target in links.items():
        link = package / name
        if not (link.is_symlink() and link.readlink() == target):
            link.unlink(missing_ok=True)  # a checkout elsewhere left it
            link.symlink_to(target)
    return tree


def test_ruff_lint_and_import_order() -> None:
    run_tool("ruff", "check", "--no-cache", ".")


def test_mypy_on_the_core_and_the_typed_edges(package_tree: Path) -> None:
    env = {**os.environ, "MYPYPATH": str(package_tree)}
    packages = [arg for package in TYPED for arg in ("-p", f"tesserad.{package}")]
    run_tool("mypy", "--cache-dir", str(package_tree / ".mypy_cache"), *packages, env=env)


def test_import_layering(package_tree: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(package_tree)}
    run_tool("lint-imports", "--no-cache", env=env)


def test_bandit_on_the_shipped_code() -> None:
    run_tool("bandit", "-q", "-c", "pyproject.toml", "-r", *SHIPPED)
