"""The ESMTP transport against a real SMTP server (aiosmtpd): plain, STARTTLS and
implicit TLS against a test CA, AUTH, and the faults: server down, refusing, slow, an
untrusted certificate, STARTTLS missing."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from tesserad.core.errors import ConfigError, DeliveryError
from tesserad.core.outbox import Outgoing
from tesserad.core.smtp_servers import SMTPSettings
from tesserad.daemon.outbox.smtp import SMTPTransport, trust_root

from tests.helpers import free_port
from tests.outbox.smtp_sink import PASSWORD, USERNAME, Sink

OTP = "402918"


def outgoing(port: int, *, server: str = "127.0.0.1", **settings: Any) -> Outgoing:
    values = {"sender": "otp@example.org", "username": "", "password": "", "tls": False, "implicit_tls": False,
              "timeout": 5, **settings}
    return Outgoing(1, "smtp:mail1", "alice@example.org",
                    {"subject": "Your OTP", "body": f"Your OTP is {OTP}", "mime": "text/plain"}, 1, "lease",
                    SMTPSettings(server=server, port=port, **values), "EMAIL1", "T1")


class SMTPTransportTests(TestCase):
    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp())

    def sink(self, mode: str = "plain", **kwargs: Any) -> Sink:
        sink = Sink(self.dir, mode, **kwargs).__enter__()
        self.addCleanup(sink.__exit__)
        return sink

    def transport(self, sink: Sink, ca: Path | None = None) -> SMTPTransport:
        return SMTPTransport(reactor, trust_root(str(ca or sink.ca.ca_file)))

    async def failure(self, transport: SMTPTransport, message: Outgoing) -> DeliveryError:
        try:
            await transport.send(message)
        except DeliveryError as exc:
            return exc
        raise AssertionError("the message was delivered")

    async def test_plain_delivery(self) -> None:
        sink = self.sink()
        await self.transport(sink).send(outgoing(sink.port))
        (mail,) = sink.received
        assert (mail.sender, mail.recipients, mail.tls) == ("otp@example.org", ["alice@example.org"], False)
        assert mail.message["Subject"] == "Your OTP" and mail.message["To"] == "alice@example.org"
        assert mail.body.strip() == f"Your OTP is {OTP}"

    async def test_html_body(self) -> None:
        sink = self.sink()
        message = outgoing(sink.port)
        html = Outgoing(**{**message.__dict__, "payload": {"subject": "s", "body": "<p>123</p>", "mime": "text/html"}})
        await self.transport(sink).send(html)
        assert sink.received[0].message.get_content_type() == "text/html"

    async def test_starttls_with_authentication_verified_against_the_test_ca(self) -> None:
        sink = self.sink("starttls", auth=True)
        await self.transport(sink).send(outgoing(sink.port, server="localhost", tls=True, username=USERNAME,
                                                 password=PASSWORD))
        (mail,) = sink.received
        assert mail.tls

    async def test_a_wrong_password_is_a_permanent_failure(self) -> None:
        sink = self.sink("starttls", auth=True)
        error = await self.failure(self.transport(sink), outgoing(sink.port, server="localhost", tls=True,
                                                                  username=USERNAME, password="wrong"))
        assert error.permanent and str(error).startswith("SMTP 535")
        assert sink.received == []

    async def test_a_certificate_of_another_ca_is_refused(self) -> None:
        sink = self.sink("starttls")
        error = await self.failure(self.transport(sink, sink.ca.other_ca_file),
                                   outgoing(sink.port, server="localhost", tls=True))
        assert not error.permanent
        assert sink.received == []

    async def test_a_certificate_for_another_host_name_is_refused(self) -> None:
        sink = self.sink("implicit")
        error = await self.failure(self.transport(sink), outgoing(sink.port, server="127.0.0.2", implicit_tls=True))
        assert sink.received == [] and str(error)

    async def test_starttls_required_but_not_offered_fails(self) -> None:
        sink = self.sink("plain")
        error = await self.failure(self.transport(sink), outgoing(sink.port, tls=True))
        assert "TLS" in str(error) or "SMTP" in str(error)
        assert sink.received == []

    async def test_implicit_tls_delivery(self) -> None:
        sink = self.sink("implicit")
        await self.transport(sink).send(outgoing(sink.port, server="localhost", implicit_tls=True))
        assert sink.received[0].tls

    async def test_a_server_that_is_down_is_a_temporary_failure(self) -> None:
        sink = self.sink()
        error = await self.failure(self.transport(sink), outgoing(free_port()))
        assert (str(error), error.permanent) == ("connection refused", False)

    async def test_a_refused_recipient_is_a_permanent_failure(self) -> None:
        sink = self.sink()
        sink.handler.refuse = "550 5.1.1 mailbox unavailable"
        error = await self.failure(self.transport(sink), outgoing(sink.port))
        assert error.permanent and str(error).startswith("SMTP 550")
        assert OTP not in str(error)

    async def test_a_server_that_does_not_answer_times_out_at_the_definition_timeout(self) -> None:
        sink = self.sink()
        sink.handler.stall = True
        started = reactor.seconds()
        error = await self.failure(self.transport(sink), outgoing(sink.port, timeout=1))
        assert not error.permanent
        assert reactor.seconds() - started < 4
        assert sink.received == []


def test_an_unusable_ca_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "empty.pem").write_text("")
    for path, reason in ((tmp_path / "missing.pem", "No such file"), (tmp_path / "empty.pem", "no PEM")):
        try:
            trust_root(str(path))
        except ConfigError as exc:
            assert exc.key == "outbox.ca_file" and reason in str(exc)
        else:
            raise AssertionError("accepted")
