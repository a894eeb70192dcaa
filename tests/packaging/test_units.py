"""The systemd units and the packaged configuration: systemd-analyze accepts the units, the
sandbox stays tight, and config, unit and PAM profile agree on the paths."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tesserad.daemon import config as configuration

from tests.helpers import BIN, require

TOP = Path(__file__).resolve().parents[2]
UNITS = TOP / "systemd"
PACKAGED_CONFIG = TOP / "packaging" / "tesserad.toml"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


@pytest.fixture(scope="module")
def analyzable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The units with ExecStart pointing at this checkout's tesserad, which verify needs to exist."""
    require(shutil.which("systemd-analyze") is not None, "systemd-analyze (package systemd) not installed")
    directory = tmp_path_factory.mktemp("units")
    for path in UNITS.iterdir():
        text = path.read_text().replace("ExecStart=/usr/bin/tesserad ", f"ExecStart={BIN / 'tesserad'} ")
        (directory / path.name).write_text(text)
    return directory


def test_systemd_analyze_verify_is_clean(analyzable: Path) -> None:
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *sorted(map(str, analyzable.iterdir()))],
                            capture_output=True, text=True, timeout=60)
    # Unknown keys are only warnings (exit 0): any line about our units is a finding.
    ours = [line for line in result.stderr.splitlines() if "tesserad" in line]
    assert result.returncode == 0 and ours == [], result.stderr


def test_sandbox_exposure_stays_low(analyzable: Path) -> None:
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", str(analyzable / "tesserad.service")],
                            capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for tesserad.service: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0, result.stdout


def test_service_runs_the_packaged_config_as_its_own_user() -> None:
    service = unit("tesserad.service")["Service"]
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert service["User"] == "tesserad"
    assert service["ExecStart"] == f"/usr/bin/tesserad --config {configuration.SYSTEM_CONFIG_PATH}"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"


def test_packaged_config_matches_the_unit_directories() -> None:
    service = unit("tesserad.service")["Service"]
    config = configuration.load(str(PACKAGED_CONFIG), env={})
    assert config.data_dir == Path("/var/lib") / service["StateDirectory"]
    assert service["WorkingDirectory"] == str(config.data_dir)
    assert config.key_dir == config.data_dir / "keys"
    assert config.pam.listen == [f"unix:/run/{service['RuntimeDirectory']}/pam.sock:mode=660"]
    assert configuration.SYSTEM_CONFIG_PATH.parent == Path("/etc") / service["ConfigurationDirectory"]
    listeners = config.web.listen + config.radius.auth_listen + config.radius.acct_listen
    assert listeners and all("127.0.0.1" in listener for listener in listeners)


def test_pam_profile_is_off_by_default_and_uses_the_daemon_socket() -> None:
    profile = (TOP / "packaging" / "pam-config").read_text()
    assert re.search(r"^Default: no$", profile, re.M)
    config = configuration.load(str(PACKAGED_CONFIG), env={})
    socket_path = config.pam.listen[0].split(":")[1]
    assert f"pam_tesserad.so socket={socket_path}" in profile


def test_socket_unit_names_the_descriptor_the_config_must_use() -> None:
    socket = unit("tesserad.socket")["Socket"]
    assert socket["Service"] == "tesserad.service"
    assert f"name={socket['FileDescriptorName']}" in (UNITS / "tesserad.socket").read_text()
