"""A real SMTP server for the tests: aiosmtpd on loopback, optionally with STARTTLS or
implicit TLS (certificates of a test CA made with ``cryptography``), AUTH, a refusing
recipient check, or a DATA phase that never answers (a slow server)."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.helpers import free_port
from tests.ldap.slapd import CertAuthority, make_ca

USERNAME, PASSWORD = "mailer", "Mail-pw-7"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool

    @property
    def body(self) -> str:
        return self.message.get_content()  # type: ignore[no-any-return]


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    refuse: str | None = None
    stall: bool = False
    released: asyncio.Event | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall:
            self.released = asyncio.Event()
            await self.released.wait()
        message = message_from_bytes(envelope.content, policy=policy.SMTP)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message,
                                      server.transport.get_extra_info("ssl_object") is not None))
        return "250 OK queued"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USERNAME.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


class Sink:
    """``mode``: plain, starttls (required), or implicit (TLS from the first byte)."""

    def __init__(self, directory: Path, mode: str = "plain", *, auth: bool = False):
        self.ca: CertAuthority = make_ca(directory)
        self.handler = Handler()
        self.port = free_port()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca.cert_file, self.ca.key_file)
        kwargs: dict[str, Any] = {}
        if mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        elif mode == "implicit":
            kwargs.update(ssl_context=context)
        if auth:
            kwargs.update(authenticator=_authenticate, auth_required=True, auth_require_tls=mode != "plain")
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> Sink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        released = self.handler.released
        if released is not None:
            self.controller.loop.call_soon_threadsafe(released.set)
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received
