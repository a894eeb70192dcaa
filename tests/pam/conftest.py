"""The PAM edge for real: pam_tesserad.so built from source, PAM service files under
/etc/pam.d, and a tesserad daemon (SQLite and PostgreSQL) with users and HOTP tokens."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tesserad.core.store.models import AuditEntry

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, require, write_config
from tests.pgserver import fresh_database
from tests.provision import audit_rows, provision
from tests.wired import PASSWD, RFC4226, RFC_SEED_HEX

SOURCE = Path(__file__).resolve().parents[2] / "pam_module" / "c"
PAM_D = Path("/etc/pam.d")
# alice and bob log in with PIN + OTP in one answer; carol's PIN alone starts a challenge.
TOKENS = [
    {"user": "alice", "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "1234", "serial": "PAM1"},
    {"user": "bob", "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "1234", "serial": "PAM2"},
    {"user": "carol", "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "5678", "serial": "PAM3"},
]
POLICIES = {"carol-challenges": {"scope": "authentication", "action": "challenge_response=hotp", "user": "carol"}}


@dataclass(frozen=True)
class Build:
    module: Path
    asan_module: Path


def needs_root() -> None:
    require(os.geteuid() == 0, "PAM service files go to /etc/pam.d, which needs root")


@pytest.fixture(scope="session")
def build() -> Iterator[Build]:
    """pam_tesserad.so and its AddressSanitizer build, made with the module's own Makefile."""
    require(shutil.which("make") is not None and shutil.which("cc") is not None, "no C compiler or make")
    require(Path("/usr/include/security/pam_modules.h").exists(),
            "libpam headers are missing (Debian libpam0g-dev; scripts/install-test-deps.sh)")
    out = Path(tempfile.mkdtemp(prefix="tpam-build-"))
    try:
        made = subprocess.run(["make", "-C", str(SOURCE), f"O={out}", "all", "asan"], capture_output=True,
                              text=True, timeout=120)
        assert made.returncode == 0, made.stdout + made.stderr
        yield Build(out / "pam_tesserad.so", out / "pam_tesserad-asan.so")
    finally:
        shutil.rmtree(out, ignore_errors=True)


@dataclass
class PamServices:
    """PAM service files this test run installed; each name is unique and removed afterwards."""

    created: list[Path] = field(default_factory=list)

    def install(self, *lines: str) -> str:
        name = f"tesserad-test-{uuid.uuid4().hex[:12]}"
        path = PAM_D / name
        path.write_text("\n".join(lines) + "\naccount required pam_permit.so\n")
        self.created.append(path)
        return name

    def remove(self) -> None:
        for path in self.created:
            path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def services() -> Iterator[PamServices]:
    needs_root()
    installed = PamServices()
    try:
        yield installed
    finally:
        installed.remove()


@dataclass
class PamServer:
    config: Path
    socket: Path
    daemon: DaemonProcess
    used: dict[str, int] = field(default_factory=dict)

    def otp(self, user: str) -> str:
        """The next unused RFC 4226 value of the user's token (one is used per accepted login)."""
        index = self.used.get(user, 0)
        self.used[user] = index + 1
        return RFC4226[index]

    def audit(self) -> list[AuditEntry]:
        return audit_rows(self.config)


def start_server(workdir: Path, db_url: str, socket_dir: Path, pam: dict[str, object] | None = None, *,
                 tokens: list[dict[str, Any]] = TOKENS, policies: dict[str, dict[str, Any]] = POLICIES,
                 **server: object) -> PamServer:
    """A daemon on ``socket_dir/pam.sock``; ``pam`` adds or overrides [pam] settings; the store
    holds ``tokens`` and ``policies`` (see tests.provision)."""
    sock = socket_dir / "pam.sock"
    data = daemon_config(workdir, database={"url": db_url}, server=server,
                         pam={"listen": [f"unix:{sock}:mode=600"], "idle_timeout": 5, **(pam or {})})
    config = write_config(workdir, data)
    passwd = workdir / "passwd"
    passwd.write_text(PASSWD)
    provision(config, passwd, tokens, policies=policies)
    return PamServer(config, sock, DaemonProcess(workdir / "run", config).start())


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory for a socket (Unix socket paths are limited to 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="tpam-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PamServer]:
    """One daemon per module and database; tests take fresh OTP values from ``PamServer.otp``."""
    needs_root()
    workdir = tmp_path_factory.mktemp("pam")
    # Unix socket paths are limited to 107 bytes: keep it short.
    socket_dir = Path(tempfile.mkdtemp(prefix="tpam-"))
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            db_url = f"sqlite:///{workdir / 'tesserad.db'}"
        else:
            db_url = stack.enter_context(fresh_database(request.getfixturevalue("postgres_server")))
        stack.callback(shutil.rmtree, socket_dir, ignore_errors=True)
        running = start_server(workdir, db_url, socket_dir)
        stack.callback(running.daemon.close)
        stack.callback(running.daemon.stop)
        yield running
