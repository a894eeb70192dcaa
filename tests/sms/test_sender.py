"""The daemon's SMS sender on a running reactor: HTTP to a real local gateway (plain and
TLS against a test CA, basic auth, answers judged), scripts run without a shell and killed
at their timeout."""

from __future__ import annotations

import base64
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.ssl import Certificate

from tesserad.core.sms.gateways import delivery
from tesserad.core.sms.providers.base import GatewayConfig
from tesserad.daemon.sms.sender import Outcome, SmsSender

from tests.ldap.slapd import CertAuthority
from tests.sms.conftest import ReactorThread
from tests.sms.sink import Sink

HTTP = "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider"
SIPGATE = "privacyidea.lib.smsprovider.SipgateSMSProvider.SipgateSMSProvider"
SCRIPT = "privacyidea.lib.smsprovider.ScriptSMSProvider.ScriptSMSProvider"


def send(rt: ReactorThread, sender: SmsSender, module: str, options: dict[str, str],
         headers: dict[str, str] | None = None) -> Outcome:
    request = delivery(GatewayConfig("gw", module, options, headers or {}), "+4917012", "Code 555111")
    return rt.call(sender.send, request)


def sender_for(tmp_path: Path, trust: CertAuthority | None = None) -> SmsSender:
    root = Certificate.loadPEM(trust.ca_file.read_bytes()) if trust else None
    return SmsSender(reactor, tmp_path, trust_root=root)


def test_post_with_basic_auth_reaches_the_gateway(running_reactor: ReactorThread, sink: Sink, tmp_path: Path) -> None:
    outcome = send(running_reactor, sender_for(tmp_path), HTTP,
                   {"URL": sink.url, "HTTP_METHOD": "POST", "USERNAME": "acct", "PASSWORD": "pw:1",
                    "RETURN_SUCCESS": "ID [0-9]+", "To": "{phone}", "Body": "{otp}"}, {"X-Api": "v1"})
    assert outcome == Outcome(True)
    (got,) = sink.wait_for(1)
    assert got.method == "POST" and got.form() == {"To": ["+4917012"], "Body": ["Code 555111"]}
    assert got.headers["authorization"] == "Basic " + base64.b64encode(b"acct:pw:1").decode()
    assert got.headers["x-api"] == "v1"


def test_answers_that_are_no_success_fail(running_reactor: ReactorThread, sink: Sink, tmp_path: Path) -> None:
    sender = sender_for(tmp_path)
    sink.status = 500
    outcome = send(running_reactor, sender, HTTP, {"URL": sink.url, "text": "{otp}"})
    assert not outcome.sent and "500" in outcome.reason and "555111" not in outcome.reason
    sink.status, sink.answer = 200, b"ERR: no credit"
    assert not send(running_reactor, sender, HTTP, {"URL": sink.url, "RETURN_FAIL": "^ERR"}).sent
    assert send(running_reactor, sender, HTTP, {"URL": sink.url, "RETURN_SUCCESS": "credit"}).sent


def test_a_gateway_that_is_down_fails(running_reactor: ReactorThread, sink: Sink, tmp_path: Path) -> None:
    url = sink.url.replace(str(sink.port), "1")
    outcome = send(running_reactor, sender_for(tmp_path), HTTP, {"URL": url, "TIMEOUT": "2"})
    assert not outcome.sent and "ConnectionRefused" in outcome.reason


def test_tls_is_checked_unless_turned_off(running_reactor: ReactorThread, tls_sink: Sink, tmp_path: Path,
                                          test_ca: CertAuthority) -> None:
    untrusting = sender_for(tmp_path)
    assert not send(running_reactor, untrusting, HTTP, {"URL": tls_sink.url}).sent
    assert tls_sink.received == []
    assert send(running_reactor, untrusting, HTTP, {"URL": tls_sink.url, "CHECK_SSL": "no"}).sent
    assert send(running_reactor, sender_for(tmp_path, test_ca), HTTP, {"URL": tls_sink.url}).sent
    assert len(tls_sink.wait_for(2)) == 2


def test_sipgate_shape(running_reactor: ReactorThread, sink: Sink, tmp_path: Path) -> None:
    sink.answer = (b"<?xml version='1.0'?><methodResponse><params><param><value><struct><member>"
                   b"<name>StatusCode</name><value><int>200</int></value></member></struct></value>"
                   b"</param></params></methodResponse>")
    assert send(running_reactor, sender_for(tmp_path), SIPGATE,
                {"USERNAME": "sip", "PASSWORD": "gate", "URL": sink.url}).sent
    (got,) = sink.wait_for(1)
    assert b"<name>Content</name><value><string>Code 555111</string>" in got.body
    assert got.headers["authorization"] == "Basic " + base64.b64encode(b"sip:gate").decode()


def test_script_runs_with_argument_and_stdin(running_reactor: ReactorThread, script_dir: Path) -> None:
    out = script_dir / "out.txt"
    script = script_dir / "send.sh"
    script.write_text(f'#!/bin/sh\necho "$1" > {out}\ncat >> {out}\n[ "$1" = "+4917012" ]\n')
    script.chmod(0o755)
    assert send(running_reactor, sender_for(script_dir), SCRIPT, {"SCRIPT": "send.sh"}) == Outcome(True)
    assert out.read_text() == "+4917012\nCode 555111"


def test_script_failures(running_reactor: ReactorThread, script_dir: Path) -> None:
    sender = sender_for(script_dir)
    (script_dir / "fails.sh").write_text("#!/bin/sh\nexit 3\n")
    (script_dir / "hangs.sh").write_text("#!/bin/sh\nexec sleep 30\n")
    (script_dir / "plain.sh").write_text("#!/bin/sh\nexit 0\n")
    for name in ("fails.sh", "hangs.sh"):
        (script_dir / name).chmod(0o755)
    failed = send(running_reactor, sender, SCRIPT, {"SCRIPT": "fails.sh"})
    assert failed == Outcome(False, "script fails.sh exited with 3")
    hung = send(running_reactor, sender, SCRIPT, {"SCRIPT": "hangs.sh", "TIMEOUT": "0.5"})
    assert hung == Outcome(False, "script hangs.sh ran longer than 0.5 s")
    assert not send(running_reactor, sender, SCRIPT, {"SCRIPT": "plain.sh"}).sent
    assert not send(running_reactor, sender, SCRIPT, {"SCRIPT": "missing.sh"}).sent
