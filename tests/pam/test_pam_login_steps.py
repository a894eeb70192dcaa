"""Steps after a granted login through the real PAM stack (pam_tesserad.so driven by
pamtester): a due PIN change (change_pin_via_validate) as consecutive prompts, and the
enrollment of a first token (enroll_via_multichallenge) whose prompt shows the otpauth URL."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tesserad.core.clock import utc_datetime
from tesserad.core.context import Context
from tesserad.daemon import config as configuration

from tests.helpers import require
from tests.http.test_enroll_at_login import DAVE_PASSWORD, add_dave, enrollment_url, otp_of
from tests.pam.conftest import Build, PamServer, PamServices, needs_root, start_server
from tests.pam.test_pam_stack import module_line, pamtester
from tests.wired import RFC4226, RFC_SEED_HEX

TOKENS = [{"user": "alice", "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "1234", "serial": "STEP1"}]
POLICIES = {"validate": {"scope": "authentication", "action": "change_pin_via_validate"},
            "rules": {"scope": "user", "action": "otp_pin_minlength=4"},
            # dave (no token, a password in the user store) enrolls HOTP at his first login.
            "passthru": {"scope": "authentication", "action": "passthru=userstore", "user": "dave"},
            "enroll": {"scope": "authentication", "action": "enroll_via_multichallenge=hotp", "user": "dave"}}


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


class Terminal:
    """pamtester on a pseudo-terminal, for a conversation whose answers depend on what it
    prompted (pamtester reads answers only after showing each prompt)."""

    def __init__(self, *command: str):
        self.master, replica = os.openpty()
        self.process = subprocess.Popen(command, stdin=replica, stdout=replica, stderr=replica, close_fds=True)
        os.close(replica)
        self.output = ""

    def until(self, shown: Callable[[str], bool], timeout: float = 30) -> str:
        """Read the terminal until ``shown`` holds for what it showed (the test fails at the timeout)."""
        deadline = time.monotonic() + timeout
        while not shown(self.output):
            left = deadline - time.monotonic()
            assert left > 0, self.output
            if select.select([self.master], [], [], left)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: the program ended
                    chunk = b""
                if not chunk:
                    break
                self.output += chunk.decode(errors="replace")
        return self.output

    def answer(self, text: str) -> None:
        os.write(self.master, text.encode() + b"\n")

    def close(self) -> int:
        self.until(lambda _: self.process.poll() is not None)
        os.close(self.master)
        return self.process.wait(timeout=30)


@pytest.mark.policy_action("authentication", "enroll_via_multichallenge")
def test_a_first_token_enrolled_through_pam_prompts(server: PamServer, build: Build, services: PamServices,
                                                    tmp_path: Path) -> None:
    service = services.install(module_line(build, server))
    add_dave(tmp_path / "passwd")
    terminal = Terminal("pamtester", "-v", service, "dave", "authenticate")
    try:
        terminal.until(lambda shown: "Password: " in shown)
        terminal.answer(DAVE_PASSWORD)
        # The prompt: the message, then the URL (the issuer comes last in it).
        shown = terminal.until(lambda shown: "issuer=tesserad" in shown)
        assert "Please scan the QR code!" in shown
        terminal.answer(otp_of(enrollment_url(shown), 0))
        terminal.until(lambda shown: "successfully authenticated" in shown)
    finally:
        code = terminal.close()
    assert code == 0, terminal.output
    rows = [row for row in server.audit() if row.user == "dave"]
    assert [r.authentication for r in rows] == ["CHALLENGE", "ACCEPT"]
    assert not any("otpauth" in (r.info or "") for r in rows)
    # The token is dave's now: the password alone no longer logs in.
    refused = pamtester(service, "dave", [DAVE_PASSWORD])
    assert refused.returncode == 1, refused
