"""The daemon's SMS sender on the reactor (trial runs it): HTTP to a real local gateway
(plain and TLS against a test CA, basic auth, answers judged), scripts run without a shell
and killed at their timeout."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.ssl import Certificate
from twisted.trial.unittest import TestCase

from tesserad.core.sms.gateways import delivery
from tesserad.core.sms.providers.base import GatewayConfig
from tesserad.daemon.sms.sender import Outcome, SmsSender

from tests.ldap.slapd import make_ca
from tests.sms.sink import Sink, http_sink

HTTP = "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider"
SIPGATE = "privacyidea.lib.smsprovider.SipgateSMSProvider.SipgateSMSProvider"
SCRIPT = "privacyidea.lib.smsprovider.ScriptSMSProvider.ScriptSMSProvider"


class SenderTests(TestCase):
    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp())

    def sink(self, tls: bool = False) -> Sink:
        cert = None
        if tls:
            self.ca = make_ca(self.dir)
            cert = (self.ca.cert_file, self.ca.key_file)
        context = http_sink(cert)
        started = context.__enter__()
        self.addCleanup(context.__exit__, None, None, None)
        return started

    def sender(self, trusted: bool = False) -> SmsSender:
        root = Certificate.loadPEM(self.ca.ca_file.read_bytes()) if trusted else None
        return SmsSender(reactor, self.dir, trust_root=root)

    async def send(self, sender: SmsSender, module: str, options: dict[str, str],
                   headers: dict[str, str] | None = None) -> Outcome:
        return await sender.send(delivery(GatewayConfig("gw", module, options, headers or {}), "+4917012",
                                          "Code 555111"))

    async def test_post_with_basic_auth_reaches_the_gateway(self) -> None:
        sink = self.sink()
        outcome = await self.send(self.sender(), HTTP, {
            "URL": sink.url, "HTTP_METHOD": "POST", "USERNAME": "acct", "PASSWORD": "pw:1",
            "RETURN_SUCCESS": "ID [0-9]+", "To": "{phone}", "Body": "{otp}"}, {"X-Api": "v1"})
        assert outcome == Outcome(True)
        (got,) = sink.wait_for(1)
        assert got.method == "POST" and got.form() == {"To": ["+4917012"], "Body": ["Code 555111"]}
        assert got.headers["authorization"] == "Basic " + base64.b64encode(b"acct:pw:1").decode()
        assert got.headers["x-api"] == "v1"

    async def test_answers_that_are_no_success_fail(self) -> None:
        sink, sender = self.sink(), self.sender()
        sink.status = 500
        outcome = await self.send(sender, HTTP, {"URL": sink.url, "text": "{otp}"})
        assert not outcome.sent and "500" in outcome.reason and "555111" not in outcome.reason
        sink.status, sink.answer = 200, b"ERR: no credit"
        assert not (await self.send(sender, HTTP, {"URL": sink.url, "RETURN_FAIL": "^ERR"})).sent
        assert (await self.send(sender, HTTP, {"URL": sink.url, "RETURN_SUCCESS": "credit"})).sent

    async def test_a_gateway_that_is_down_fails(self) -> None:
        sink = self.sink()
        url = sink.url.replace(str(sink.port), "1")
        outcome = await self.send(self.sender(), HTTP, {"URL": url, "TIMEOUT": "2"})
        assert not outcome.sent and "ConnectionRefused" in outcome.reason

    async def test_tls_is_checked_unless_turned_off(self) -> None:
        sink = self.sink(tls=True)
        untrusting = self.sender()
        assert not (await self.send(untrusting, HTTP, {"URL": sink.url})).sent
        assert sink.received == []
        assert (await self.send(untrusting, HTTP, {"URL": sink.url, "CHECK_SSL": "no"})).sent
        assert (await self.send(self.sender(trusted=True), HTTP, {"URL": sink.url})).sent
        assert len(sink.wait_for(2)) == 2

    async def test_sipgate_shape(self) -> None:
        sink = self.sink()
        sink.answer = (b"<?xml version='1.0'?><methodResponse><params><param><value><struct><member>"
                       b"<name>StatusCode</name><value><int>200</int></value></member></struct></value>"
                       b"</param></params></methodResponse>")
        assert (await self.send(self.sender(), SIPGATE, {"USERNAME": "sip", "PASSWORD": "gate", "URL": sink.url})).sent
        (got,) = sink.wait_for(1)
        assert b"<name>Content</name><value><string>Code 555111</string>" in got.body
        assert got.headers["authorization"] == "Basic " + base64.b64encode(b"sip:gate").decode()

    async def test_script_runs_with_argument_and_stdin(self) -> None:
        out = self.dir / "out.txt"
        script = self.dir / "send.sh"
        script.write_text(f'#!/bin/sh\necho "$1" > {out}\ncat >> {out}\n[ "$1" = "+4917012" ]\n')
        script.chmod(0o755)
        assert await self.send(self.sender(), SCRIPT, {"SCRIPT": "send.sh"}) == Outcome(True)
        assert out.read_text() == "+4917012\nCode 555111"

    async def test_script_failures(self) -> None:
        sender = self.sender()
        (self.dir / "fails.sh").write_text("#!/bin/sh\nexit 3\n")
        (self.dir / "hangs.sh").write_text("#!/bin/sh\nexec sleep 30\n")
        (self.dir / "plain.sh").write_text("#!/bin/sh\nexit 0\n")
        for name in ("fails.sh", "hangs.sh"):
            (self.dir / name).chmod(0o755)
        failed = await self.send(sender, SCRIPT, {"SCRIPT": "fails.sh"})
        assert failed == Outcome(False, "script fails.sh exited with 3")
        hung = await self.send(sender, SCRIPT, {"SCRIPT": "hangs.sh", "TIMEOUT": "0.5"})
        assert hung == Outcome(False, "script hangs.sh ran longer than 0.5 s")
        assert not (await self.send(sender, SCRIPT, {"SCRIPT": "plain.sh"})).sent
        assert not (await self.send(sender, SCRIPT, {"SCRIPT": "missing.sh"})).sent
