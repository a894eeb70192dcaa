"""The man pages generated from the argparse parsers: complete and free of troff warnings."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tesserad import __version__

from tests.helpers import require

TOP = Path(__file__).resolve().parents[2]
GENERATOR = TOP / "packaging" / "manpage.py"


def render(name: str) -> str:
    return subprocess.run([sys.executable, str(GENERATOR), name], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def test_manage_page_lists_every_command() -> None:
    page = render("tesserad-manage")
    for command in ("db upgrade", "db status", "keys create", "admin add", "admin list", "admin delete",
                    "admin passwd", "admin verify", "config check"):
        assert f"\\fB{command}\\fR" in page
    assert "\\fB\\-\\-email\\fR" in page and "\\fIUSERNAME\\fR" in page


@pytest.mark.parametrize("name", ["tesserad", "tesserad-manage"])
def test_page_renders_without_warnings(name: str, tmp_path: Path) -> None:
    require(shutil.which("groff") is not None, "groff not installed")
    page = render(name)
    title = name.upper().replace("-", "\\-")
    assert page.startswith(f".TH {title} 8 ") and f"tesserad {__version__}" in page
    result = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z"], input=page, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_unknown_page_is_refused() -> None:
    result = subprocess.run([sys.executable, str(GENERATOR), "tesserad-nothing"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0 and "usage" in result.stderr


def test_package_versions_follow_the_code() -> None:
    changelog = (TOP / "debian" / "changelog").read_text().splitlines()[0]
    assert re.match(rf"tesserad \({re.escape(__version__)}(-[0-9]+)?\) ", changelog), changelog
    spec = (TOP / "rpm" / "tesserad.spec").read_text()
    assert f"%{{!?version_from_tree:{__version__}}}" in spec
