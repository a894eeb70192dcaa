"""The outbox transport of kind ``sms`` (trial runs the reactor): an HTTP gateway that
fails is a temporary failure (the outbox retries), a definition that cannot send is a
permanent one, and the SMTP provider hands a mail to the SMTP transport, received by a real
SMTP server (aiosmtpd)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from tesserad.core.errors import DeliveryError
from tesserad.core.outbox import Outgoing
from tesserad.core.sms.providers.base import GatewayConfig
from tesserad.core.smtp_servers import SMTPSettings
from tesserad.daemon.outbox.smtp import SMTPTransport, trust_root
from tesserad.daemon.sms.transport import SmsTransport

from tests.outbox.smtp_sink import Sink as MailSink
from tests.sms.sink import http_sink

HTTP = "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider"
SMTP = "privacyidea.lib.smsprovider.SmtpSMSProvider.SmtpSMSProvider"


def outgoing(gateway: GatewayConfig, phone: str = "+4917012") -> Outgoing:
    return Outgoing(7, "sms:gw1", phone, {"text": "Code 555111"}, 1, "lease", gateway, "PISM1", "T1")


class SmsTransportTests(TestCase):
    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp())

    def transport(self, ca: Path | None = None) -> SmsTransport:
        return SmsTransport(reactor, self.dir, SMTPTransport(reactor, trust_root(str(ca) if ca else None)))

    async def failure(self, transport: SmsTransport, message: Outgoing) -> DeliveryError:
        try:
            await transport.send(message)
        except DeliveryError as exc:
            return exc
        raise AssertionError("the message was delivered")

    async def test_http_success_and_temporary_failure(self) -> None:
        with http_sink() as sink:
            gateway = GatewayConfig("gw1", HTTP, {"URL": sink.url, "to": "{phone}", "text": "{otp}"}, {})
            await self.transport().send(outgoing(gateway))
            sink.status = 503
            failed = await self.failure(self.transport(), outgoing(gateway))
            assert not failed.permanent and "503" in str(failed) and "555111" not in str(failed)
            assert [r.query["text"] for r in sink.wait_for(2)] == [["Code 555111"], ["Code 555111"]]

    async def test_a_definition_that_cannot_send_fails_for_good(self) -> None:
        gateway = GatewayConfig("gw1", HTTP, {"URL": "ftp://nowhere/"}, {})
        failed = await self.failure(self.transport(), outgoing(gateway))
        assert failed.permanent and "option.URL" in str(failed)
        failed = await self.failure(self.transport(), outgoing(GatewayConfig("gw1", HTTP, {"URL": "http://x/"}, {}),
                                                               phone="-rf"))
        assert failed.permanent

    async def test_the_smtp_provider_mails_the_gateway(self) -> None:
        sink = MailSink(self.dir).__enter__()
        self.addCleanup(sink.__exit__)
        server = SMTPSettings("127.0.0.1", sink.port, "otp@example.org", "", "", False, False, 5)
        gateway = GatewayConfig("gw1", SMTP, {"SMTPIDENTIFIED": "mail1", "MAILTO": "{phone}@sms.example.org",
                                              "SUBJECT": "SMS for {phone}"}, {}, server)
        await self.transport(sink.ca.ca_file).send(outgoing(gateway))
        (mail,) = sink.received
        assert mail.recipients == ["+4917012@sms.example.org"]
        assert mail.message["Subject"] == "SMS for +4917012" and mail.body.strip() == "Code 555111"
