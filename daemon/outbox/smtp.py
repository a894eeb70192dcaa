"""The ``smtp`` transport: one ESMTP conversation per message, on the reactor.

STARTTLS (``tls``) is required, not opportunistic, when a definition asks for it, and the
certificate chain and host name are verified against ``outbox.ca_file`` (or the system
trust store); ``implicit_tls`` speaks TLS from the first byte. Without either the
conversation is plain. The definition's ``timeout`` bounds the whole conversation, so a
slow server costs a lease, never a thread.
"""

from __future__ import annotations

import email.policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from twisted.internet import error as net
from twisted.internet._sslverify import IOpenSSLTrustRoot
from twisted.internet.defer import CancelledError, Deferred, TimeoutError
from twisted.internet.ssl import Certificate, optionsForClientTLS, platformTrust, trustRootFromCertificates
from twisted.mail.smtp import ESMTPSenderFactory, SMTPClientError, SMTPConnectError
from twisted.python.failure import Failure

from tesserad.core.errors import ConfigError, DeliveryError
from tesserad.core.outbox import Outgoing
from tesserad.core.smtp_servers import SMTPSettings

# The start of a server's answer that the audit keeps.
_ANSWER = 120


def trust_root(ca_file: str) -> IOpenSSLTrustRoot:
    """The CAs of ``ca_file`` (PEM bundle), or the system trust store when empty."""
    if not ca_file:
        return platformTrust()
    try:
        certificates = x509.load_pem_x509_certificates(Path(ca_file).read_bytes())
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "no PEM certificate in it"
        raise ConfigError(f"cannot use {ca_file}: {reason}", key="outbox.ca_file") from None
    return trustRootFromCertificates([Certificate.loadPEM(c.public_bytes(Encoding.PEM)) for c in certificates])


def mail(sender: str, recipient: str, payload: dict[str, str]) -> bytes:
    """The message with encoded headers and LF line ends (Twisted's client sends CRLF)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = payload.get("subject", "")
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    subtype = "html" if payload.get("mime") == "text/html" else "plain"
    message.set_content(payload.get("body", ""), subtype=subtype)
    return message.as_bytes(policy=email.policy.default)


class SMTPTransport:
    def __init__(self, reactor: Any, trust: IOpenSSLTrustRoot | None = None):
        self._reactor = reactor
        self._trust = trust if trust is not None else platformTrust()

    def send(self, message: Outgoing) -> Deferred[None]:
        settings: SMTPSettings = message.settings
        try:
            body = mail(settings.sender, message.recipient, message.payload)
        except ValueError:
            raise DeliveryError("the message has a header that cannot be sent", permanent=True) from None
        tls = optionsForClientTLS(settings.server, trustRoot=self._trust)
        conversation: Deferred[Any] = Deferred()
        factory = ESMTPSenderFactory(
            settings.username.encode() or None, settings.password.encode() or None, settings.sender,
            [message.recipient], BytesIO(body), conversation, retries=0,
            contextFactory=tls if settings.tls else None, heloFallback=True,
            requireAuthentication=bool(settings.username), requireTransportSecurity=settings.tls)
        if settings.implicit_tls:
            connector = self._reactor.connectSSL(settings.server, settings.port, factory, tls,
                                                 timeout=settings.timeout)
        else:
            connector = self._reactor.connectTCP(settings.server, settings.port, factory, timeout=settings.timeout)
        result: Deferred[None] = Deferred()

        def settle(outcome: Any) -> None:
            if timer.active():
                timer.cancel()
            if not result.called:
                result.errback(outcome) if isinstance(outcome, Failure) else result.callback(None)

        def expire() -> None:
            factory.sendFinished = True  # the factory reports nothing after this
            connector.disconnect()
            result.errback(DeliveryError(f"no answer within {settings.timeout} s"))

        timer = self._reactor.callLater(settings.timeout, expire)
        conversation.addErrback(_translated, connector).addBoth(settle)
        return result


def _translated(failure: Failure, connector: Any) -> None:
    """Every failure as a DeliveryError (5xx answers are permanent); the connection closed."""
    connector.disconnect()
    value = failure.value
    if isinstance(value, DeliveryError):
        raise value
    if isinstance(value, SMTPConnectError):
        # Refused, unreachable, or closed before the greeting (e.g. a TLS handshake that failed).
        reason = str(value.resp)
        raise DeliveryError("connection refused" if "refused" in reason.lower()
                            else f"could not talk to the server: {reason[:_ANSWER]}")
    if isinstance(value, SMTPClientError):
        code = value.code or 0
        answer = value.resp.decode("utf-8", "replace") if isinstance(value.resp, bytes) else str(value.resp or "")
        raise DeliveryError(f"SMTP {code} {answer[:_ANSWER]}".strip(), permanent=500 <= code < 600)
    if isinstance(value, net.ConnectionRefusedError):
        raise DeliveryError("connection refused")
    if isinstance(value, net.DNSLookupError):
        raise DeliveryError("host name not found")
    if isinstance(value, TimeoutError | CancelledError | net.TimeoutError):
        raise DeliveryError("timed out")
    raise DeliveryError(f"{type(value).__name__}")
