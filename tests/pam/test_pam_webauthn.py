"""PAM cannot carry a WebAuthn assertion: through the real PAM stack (pam_tesserad.so driven
by pamtester) a PIN challenges only the user's OTP tokens, and a user with WebAuthn tokens
alone is refused with an audited reason."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tesserad.core.context import Context
from tesserad.daemon import config as configuration

from tests.helpers import require
from tests.pam.conftest import Build, PamServer, PamServices, needs_root, start_server
from tests.pam.test_pam_stack import module_line, pamtester
from tests.softauthn import SoftAuthenticator
from tests.webauthn.enrolled import STEP_ONE, finish
from tests.wired import RFC4226, RFC_SEED_HEX

TOKENS = [{"user": "alice", "pin": "1234", "serial": "WAN-ALICE", **STEP_ONE},
          {"user": "alice", "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "1234", "serial": "HOTP-ALICE"},
          {"user": "bob", "pin": "5678", "serial": "WAN-BOB", **STEP_ONE}]
POLICIES = {"cr": {"scope": "authentication", "action": "challenge_response=hotp"}}
MESSAGE = "WebAuthn tokens cannot be used over PAM: they need a browser or a privacyIDEA-compatible HTTP client"


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[PamServer]:
    needs_root()
    require(shutil.which("pamtester") is not None, "pamtester is not installed (scripts/install-test-deps.sh)")
    socket_dir = Path(tempfile.mkdtemp(prefix="tpam-"))
    running = start_server(tmp_path, db_url, socket_dir, tokens=TOKENS, policies=POLICIES)
    ctx = Context.open(configuration.load(str(running.config), env={}))
    try:
        with ctx.database.session() as session:
            for serial in ("WAN-ALICE", "WAN-BOB"):
                finish(ctx.tokens.get(session, serial), SoftAuthenticator())
            session.commit()
    finally:
        ctx.close()
    try:
        yield running
    finally:
        running.daemon.stop()
        running.daemon.close()
        shutil.rmtree(socket_dir, ignore_errors=True)


def test_pam_challenges_only_the_otp_token(server: PamServer, build: Build, services: PamServices) -> None:
    service = services.install(module_line(build, server))
    done = pamtester(service, "alice", ["1234", RFC4226[0]])
    assert done.returncode == 0 and "successfully authenticated" in done.stdout, done
    assert "please enter otp: " in done.stdout and "WebAuthn" not in done.stdout
    rows = [row for row in server.audit() if row.user == "alice"]
    assert [(r.authentication, r.serial) for r in rows] == [("CHALLENGE", "HOTP-ALICE"), ("ACCEPT", "HOTP-ALICE")]


def test_pam_refuses_webauthn_alone_with_the_reason(server: PamServer, build: Build,
                                                    services: PamServices) -> None:
    service = services.install(module_line(build, server))
    refused = pamtester(service, "bob", ["5678"])
    assert refused.returncode == 1, refused
    [row] = [row for row in server.audit() if row.user == "bob"]
    assert (row.success, row.serial, row.info) == (False, "WAN-BOB", MESSAGE)
