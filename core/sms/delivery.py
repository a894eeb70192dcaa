"""What a provider asks the sender to do: plain data, so the core builds and checks it and
the daemon carries it out on the reactor (HTTP through twisted.web, a script through
``spawnProcess``) without the core knowing Twisted.

A delivery holds the message and maybe credentials: it is never logged; ``describe`` is
what may appear in the audit and in errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request to a gateway; it succeeded if the status is 2xx and the body
    matches ``success`` (when set) and does not match ``failure`` (when set)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    username: str = ""
    password: str = field(default="", repr=False)
    check_tls: bool = True
    timeout: float = 10.0
    success: re.Pattern[str] | None = None
    failure: re.Pattern[str] | None = None

    def accepted(self, status: int, body: str) -> bool:
        if not 200 <= status < 300:
            return False
        if self.failure is not None and self.failure.search(body):
            return False
        return self.success is None or bool(self.success.search(body))

    def describe(self) -> str:
        return f"{self.method} {self.url.split('?', 1)[0]}"


@dataclass(frozen=True)
class Command:
    """Run ``script`` from the daemon's script directory with ``arguments`` (no shell) and
    ``stdin`` as its input; it succeeded if it exits 0 within ``timeout`` seconds."""

    script: str
    arguments: tuple[str, ...] = field(repr=False)
    stdin: bytes = field(repr=False)
    timeout: float = 10.0

    def describe(self) -> str:
        return f"script {self.script}"


@dataclass(frozen=True)
class Mail:
    """An email to an email-to-SMS gateway, sent through the SMTP server ``smtp_identifier``."""

    smtp_identifier: str
    recipient: str = field(repr=False)
    subject: str = field(repr=False)
    body: str = field(repr=False)

    def describe(self) -> str:
        return f"mail through {self.smtp_identifier}"


Delivery = HttpRequest | Command | Mail
