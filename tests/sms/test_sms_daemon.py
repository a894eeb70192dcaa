"""The sms token against a real tesserad process: the SMS reaches a local HTTP gateway
through the outbox, and the OTP read from there logs in over HTTP, RADIUS (radclient,
Access-Challenge) and PAM (pamtester, a second prompt). A gateway answering 500 gets the
message again until it takes it, and it is sent once."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tesserad.core.context import Context
from tesserad.core.sms import gateways
from tesserad.core.store.models import OutboxMessage
from tesserad.daemon import config as configuration

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, free_port, require, write_config
from tests.pam.conftest import Build, PamServer, PamServices, build, needs_root, services  # noqa: F401  (the PAM fixtures)
from tests.pam.test_pam_login_steps import Terminal
from tests.pam.test_pam_stack import module_line
from tests.provision import audit_rows, provision
from tests.radius.test_login_steps_daemon import reply_message, request
from tests.radius.test_radius_daemon import CLIENTS, SECRET, needs_radclient, state_of
from tests.sms.sink import Sink, http_sink
from tests.wired import PASSWD

HTTP = "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider"
PHONE = "+49 170 5550123"
TOKENS = [{"user": "alice", "type": "sms", "phone": PHONE, "pin": "1234", "serial": "PISM0001",
           "sms.identifier": "gw1"}]
POLICIES = {"sms": {"scope": "authentication", "action": "smstext=Your code: {otp}"}}


@dataclass
class SmsServer:
    config: Path
    daemon: DaemonProcess
    web: int
    radius: int
    socket: Path
    sink: Sink

    def validate(self, **params: str) -> dict[str, Any]:
        data = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web}/validate/check", data, timeout=30) as answer:
            return json.loads(answer.read())

    def otp(self, number: int) -> str:
        """The OTP of the ``number``-th SMS (1-based) the gateway received."""
        received = self.sink.wait_for(number)[number - 1]
        assert received.form()["to"] == [PHONE]
        text = received.form()["text"][0]
        assert text.startswith("Your code: ")
        return text.removeprefix("Your code: ")

    def messages(self) -> list[OutboxMessage]:
        ctx = Context.open(configuration.load(str(self.config), env={}))
        try:
            with ctx.database.session() as session:
                rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
                session.expunge_all()
                return rows
        finally:
            ctx.close()


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[SmsServer]:
    socket_dir = Path(tempfile.mkdtemp(prefix="tsms-"))
    radius = free_port(socket.SOCK_DGRAM)
    data = daemon_config(tmp_path, database={"url": db_url},
                         radius={"auth_listen": [f"127.0.0.1:{radius}"], "clients": CLIENTS},
                         pam={"listen": [f"unix:{socket_dir / 'pam.sock'}:mode=600"]},
                         outbox={"poll_interval_ms": 50, "retry_delays": [1]})
    config = write_config(tmp_path, data)
    passwd = tmp_path / "passwd"
    passwd.write_text(PASSWD)
    with http_sink() as sink:
        provision(config, passwd, [], policies=POLICIES)
        ctx = Context.open(configuration.load(str(config), env={}))
        try:
            with ctx.database.session() as session:
                gateways.save(session, ctx.keys.security, "gw1", module=HTTP, description="test sink",
                              options={"URL": sink.url, "HTTP_METHOD": "POST", "RETURN_SUCCESS": "^OK",
                                       "to": "{phone}", "text": "{otp}"}, headers={})
                session.commit()
        finally:
            ctx.close()
        provision(config, passwd, TOKENS)
        web = int(data["web"]["listen"][0].split(":")[1])
        running = SmsServer(config, DaemonProcess(tmp_path / "run", config).start(), web, radius,
                            socket_dir / "pam.sock", sink)
        try:
            yield running
        finally:
            running.daemon.stop()
            running.daemon.close()
            shutil.rmtree(socket_dir, ignore_errors=True)


def test_the_sms_otp_logs_in_over_http(server: SmsServer) -> None:
    challenge = server.validate(user="alice", **{"pass": "1234"})
    assert challenge["result"] == {"status": True, "value": False, "authentication": "CHALLENGE"}
    detail = challenge["detail"]
    assert detail["message"] == "Enter the OTP from the SMS:" and detail["serial"] == "PISM0001"
    otp = server.otp(1)
    accepted = server.validate(user="alice", transaction_id=detail["transaction_id"], **{"pass": otp})
    assert accepted["result"]["authentication"] == "ACCEPT"
    again = server.validate(user="alice", transaction_id=detail["transaction_id"], **{"pass": otp})
    assert again["result"]["authentication"] == "REJECT"
    (message,) = server.messages()
    assert (message.state, message.attempts, message.recipient) == ("sent", 1, PHONE)
    assert len(server.sink.received) == 1
    assert otp not in server.daemon.stderr


def test_a_gateway_answering_500_gets_the_message_again(server: SmsServer) -> None:
    server.sink.status = 500
    challenge = server.validate(user="alice", **{"pass": "1234"})
    first = server.otp(1)
    server.sink.status = 200
    assert server.otp(2) == first
    accepted = server.validate(user="alice", transaction_id=challenge["detail"]["transaction_id"],
                               **{"pass": first})
    assert accepted["result"]["authentication"] == "ACCEPT"
    (message,) = server.messages()
    assert (message.state, message.attempts) == ("sent", 2)
    outcomes = [row.info for row in audit_rows(server.config) if row.action == "OUTBOX send"]
    assert len(outcomes) == 2 and "answered 500" in outcomes[0] and "sent" in outcomes[1]
    assert not any(first in (row.info or "") for row in audit_rows(server.config))


def test_a_challenge_while_the_gateway_fails_says_the_sms_could_not_be_sent(server: SmsServer) -> None:
    server.sink.status = 500
    first = server.validate(user="alice", **{"pass": "1234"})
    assert first["detail"]["message"] == "Enter the OTP from the SMS:"
    server.sink.wait_for(1)
    deadline = time.monotonic() + 10
    while not any(m.last_error for m in server.messages()):  # the daemon records the 500 it was answered
        assert time.monotonic() < deadline, "the failed attempt was not recorded"
    second = server.validate(user="alice", **{"pass": "1234"})
    assert second["result"]["authentication"] == "CHALLENGE"
    assert second["detail"]["message"] == "The PIN was correct, but the SMS could not be sent!"


def test_the_sms_otp_logs_in_over_radius(server: SmsServer) -> None:
    needs_radclient()

    def radclient(attributes: str) -> str:
        done = subprocess.run(["radclient", "-x", "-r", "1", "-t", "10", f"127.0.0.1:{server.radius}", "auth",
                               SECRET], input=attributes + "\n", capture_output=True, text=True, timeout=60)
        return done.stdout

    challenge = radclient(request("alice", "1234"))
    assert "Received Access-Challenge" in challenge and reply_message(challenge) == "Enter the OTP from the SMS:"
    answer = radclient(request("alice", server.otp(1), state_of(challenge)))
    assert "Received Access-Accept" in answer, answer


def test_the_sms_otp_logs_in_over_pam(server: SmsServer, build: Build, services: PamServices) -> None:
    needs_root()
    require(shutil.which("pamtester") is not None, "pamtester is not installed (scripts/install-test-deps.sh)")
    service = services.install(module_line(build, PamServer(server.config, server.socket, server.daemon)))
    terminal = Terminal("pamtester", "-v", service, "alice", "authenticate")
    try:
        terminal.until(lambda shown: "Password: " in shown)
        terminal.answer("1234")
        terminal.until(lambda shown: "Enter the OTP from the SMS:" in shown)
        terminal.answer(server.otp(1))
        terminal.until(lambda shown: "successfully authenticated" in shown)
    finally:
        code = terminal.close()
    assert code == 0, terminal.output
