"""Steps after a granted login through the real PAM stack (pam_tesserad.so driven by
pamtester): a due PIN change (change_pin_via_validate) as consecutive prompts."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tesserad.core import config as configuration
from tesserad.core.clock import utc_datetime
from tesserad.core.context import Context

from tests.helpers import require
from tests.pam.conftest import Build, PamServer, PamServices, needs_root, start_server
from tests.pam.test_pam_stack import module_line, pamtester
from tests.wired import RFC4226, RFC_SEED_HEX

TOKENS = [{"user": "alice", "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "1234", "serial": "STEP1"}]
POLICIES = {"validate": {"scope": "authentication", "action": "change_pin_via_validate"},
            "rules": {"scope": "user", "action": "otp_pin_minlength=4"}}


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[PamServer]:
    needs_root()
    require(shutil.which("pamtester") is not None, "pamtester is not installed (scripts/install-test-deps.sh)")
    socket_dir = Path(tempfile.mkdtemp(prefix="tpam-"))
    running = start_server(tmp_path, db_url, socket_dir, tokens=TOKENS, policies=POLICIES)
    try:
        yield running
    finally:
        running.daemon.stop()
        running.daemon.close()
        shutil.rmtree(socket_dir, ignore_errors=True)


def pin_change_due(config: Path, serial: str) -> None:
    """Date the token's PIN change now (as change_pin_on_first_use does), in the running daemon's store."""
    ctx = Context.open(configuration.load(str(config), env={}))
    try:
        with ctx.database.session() as session:
            ctx.tokens.get(session, serial).set_next_pin_change(utc_datetime(ctx.clock))
            session.commit()
    finally:
        ctx.close()


@pytest.mark.policy_action("authentication", "change_pin_via_validate")
def test_a_due_pin_change_as_pam_prompts(server: PamServer, build: Build, services: PamServices) -> None:
    service = services.install(module_line(build, server))
    pin_change_due(server.config, "STEP1")
    short = pamtester(service, "alice", ["1234" + RFC4226[0], "12"])
    assert short.returncode == 1 and "Please enter a new PIN" in short.stdout, short
    changed = pamtester(service, "alice", ["1234" + RFC4226[1], "2468", "2468"])
    assert changed.returncode == 0 and "successfully authenticated" in changed.stdout, changed
    prompts = changed.stdout
    assert prompts.index("Password: ") < prompts.index("Please enter a new PIN") < prompts.index(
        "Please enter the new PIN again"), prompts
    again = pamtester(service, "alice", ["2468" + RFC4226[2]])
    assert again.returncode == 0 and "Please enter" not in again.stdout, again
    rows = server.audit()[-6:]
    assert [r.authentication for r in rows] == ["CHALLENGE", "", "CHALLENGE", "CHALLENGE", "ACCEPT", "ACCEPT"]
    assert (rows[1].success, rows[1].info) == (False, "The minimum OTP PIN length is 4")
    assert "2468" not in server.daemon.stderr
