"""Email OTP end to end with a real tesserad and a real SMTP server (aiosmtpd, STARTTLS
against a test CA, AUTH): the PIN sends the mail, and the OTP read from the received
mail logs in over HTTP /validate/check, RADIUS (radclient: Access-Challenge, then the
answer with State) and PAM (pamtester: the second prompt). A mail server that is down
shows in the next challenge message."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tesserad.core import smtp_servers
from tesserad.core.context import Context
from tesserad.daemon import config as configuration

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, free_port, require, until, write_config
from tests.outbox.smtp_sink import PASSWORD, USERNAME, Sink
from tests.pam.conftest import Build, PamServices, build, needs_root, services  # noqa: F401  (fixtures)
from tests.pam.test_pam_login_steps import Terminal
from tests.pam.test_pam_stack import module_line
from tests.provision import provision
from tests.radius.test_login_steps_daemon import reply_message
from tests.radius.test_radius_daemon import CLIENTS, SECRET, needs_radclient, state_of
from tests.wired import PASSWD

TOKENS = [{"user": "alice", "type": "email", "email": "alice@example.org", "pin": "1234", "serial": "MAIL1"},
          {"user": "bob", "type": "email", "email": "bob@example.org", "pin": "4321", "serial": "MAIL2",
           "email.identifier": "down"}]


@dataclass
class EmailServer:
    config: Path
    web: str
    radius: tuple[str, int]
    socket: Path
    sink: Sink
    daemon: DaemonProcess

    def validate(self, **params: str) -> dict[str, Any]:
        data = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(f"{self.web}/validate/check", data, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())  # type: ignore[no-any-return]

    def mailed_otp(self, count: int) -> str:
        """The OTP of the ``count``-th mail the sink received (waiting for it)."""
        until(lambda: len(self.sink.received) >= count, f"mail {count}")
        mail = self.sink.received[count - 1]
        assert mail.tls and mail.recipients == ["alice@example.org"]
        return mail.body.strip()

    def radclient(self, attributes: str) -> str:
        done = subprocess.run(["radclient", "-x", "-r", "1", "-t", "10", f"{self.radius[0]}:{self.radius[1]}",
                               "auth", SECRET], input=attributes + "\n", capture_output=True, text=True, timeout=60)
        return done.stdout + done.stderr


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[EmailServer]:
    socket_dir = Path(tempfile.mkdtemp(prefix="tmail-"))
    web, auth, acct = free_port(), free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    with Sink(tmp_path, "starttls", auth=True) as sink:
        data = daemon_config(
            tmp_path, database={"url": db_url}, web={"listen": [f"tcp:{web}:interface=127.0.0.1"]},
            radius={"auth_listen": [f"127.0.0.1:{auth}"], "acct_listen": [f"127.0.0.1:{acct}"], "clients": CLIENTS},
            pam={"listen": [f"unix:{socket_dir / 'pam.sock'}:mode=600"]},
            outbox={"poll_interval_ms": 50, "retry_delays": [30], "ca_file": str(sink.ca.ca_file)})
        config = write_config(tmp_path, data)
        passwd = tmp_path / "passwd"
        passwd.write_text(PASSWD)
        provision(config, passwd, TOKENS, system={"email.identifier": "mail1"})
        ctx = Context.open(configuration.load(str(config), env={}))
        try:
            with ctx.database.session() as session:
                for name, port in (("mail1", sink.port), ("down", free_port())):
                    smtp_servers.save(session, ctx.keys.security, name, server="localhost", port=port,
                                      sender="otp@example.org", username=USERNAME, password=PASSWORD, tls=True,
                                      implicit_tls=False, timeout=5, enqueue_job=False, description="")
                session.commit()
        finally:
            ctx.close()
        daemon = DaemonProcess(tmp_path / "run", config).start()
        try:
            yield EmailServer(config, f"http://127.0.0.1:{web}", ("127.0.0.1", auth), socket_dir / "pam.sock",
                              sink, daemon)
        finally:
            daemon.stop()
            daemon.close()
            shutil.rmtree(socket_dir, ignore_errors=True)


def test_the_mailed_otp_logs_in_over_http(server: EmailServer) -> None:
    challenge = server.validate(user="alice", **{"pass": "1234"})
    assert challenge["result"]["value"] is False and challenge["result"]["authentication"] == "CHALLENGE"
    assert challenge["detail"]["message"] == "Enter the OTP from the Email"
    transaction = challenge["detail"]["transaction_id"]
    otp = server.mailed_otp(1)
    wrong = server.validate(user="alice", transaction_id=transaction, **{"pass": "000000" if otp != "000000" else "1"})
    assert wrong["result"]["value"] is False
    answer = server.validate(user="alice", transaction_id=transaction, **{"pass": otp})
    assert answer["result"]["value"] is True and answer["detail"]["serial"] == "MAIL1"
    replay = server.validate(user="alice", **{"pass": "1234" + otp})
    assert replay["result"]["value"] is False
    assert otp not in server.daemon.stderr


def test_a_mail_server_that_is_down_shows_in_the_next_challenge(server: EmailServer) -> None:
    first = server.validate(user="bob", **{"pass": "4321"})
    assert first["detail"]["message"] == "Enter the OTP from the Email"
    def failed_once() -> bool:
        ctx = Context.open(configuration.load(str(server.config), env={}))
        try:
            with ctx.database.session() as session:
                return ctx.outbox.failing(session, "smtp:down")
        finally:
            ctx.close()

    until(failed_once, "the first attempt through the server that is down")
    second = server.validate(user="bob", **{"pass": "4321"})
    assert second["result"]["authentication"] == "CHALLENGE"
    assert second["detail"]["message"] == "The PIN was correct, but the EMail could not be sent!"


def test_the_mailed_otp_answers_a_radius_challenge(server: EmailServer) -> None:
    needs_radclient()
    attributes = 'User-Name = "alice", User-Password = "{}", Message-Authenticator = 0x00'
    challenge = server.radclient(attributes.format("1234"))
    assert "Received Access-Challenge" in challenge, challenge
    assert reply_message(challenge) == "Enter the OTP from the Email"
    otp = server.mailed_otp(1)
    answer = server.radclient(attributes.format(otp) + f", State = {state_of(challenge)}")
    assert "Received Access-Accept" in answer, answer
    again = server.radclient(attributes.format(otp) + f", State = {state_of(challenge)}")
    assert "Received Access-Reject" in again, again


def test_the_mailed_otp_answers_the_second_pam_prompt(server: EmailServer, build: Build,  # noqa: F811
                                                       services: PamServices) -> None:  # noqa: F811
    needs_root()
    require(shutil.which("pamtester") is not None, "pamtester is not installed (scripts/install-test-deps.sh)")
    service = services.install(module_line(build, server.socket))
    terminal = Terminal("pamtester", "-v", service, "alice", "authenticate")
    try:
        terminal.until(lambda shown: "Password: " in shown)
        terminal.answer("1234")
        terminal.until(lambda shown: "Enter the OTP from the Email" in shown)
        terminal.answer(server.mailed_otp(1))
        terminal.until(lambda shown: "successfully authenticated" in shown)
    finally:
        code = terminal.close()
    assert code == 0, terminal.output
