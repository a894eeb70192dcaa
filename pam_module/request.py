"""What one PAM authentication step asks and answers, whoever serves it.

The listener decodes a frame into a ``PamRequest`` and hands it to an ``Authenticator``: the local
one runs the core engine, the agent forwards to an upstream server (and its offline cache). Both
answer a ``PamReply`` that the listener encodes back into a frame.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from twisted.internet.defer import Deferred


class PamOutcome(enum.Enum):
    ACCEPT = "accept"
    REJECT = "reject"
    CHALLENGE = "challenge"
    # The server cannot decide (daemon's store or upstream down): the module answers PAM_AUTHINFO_UNAVAIL.
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class PamRequest:
    user: str
    password: str
    service: str = ""
    rhost: str = ""
    tty: str = ""
    realm: str | None = None
    # Transaction id of the challenge this answers, if any.
    state: str | None = None
    # The host the module runs on (the daemon's host name for a local socket).
    host: str = ""


@dataclass(frozen=True)
class PamReply:
    outcome: PamOutcome
    # The challenge text to prompt with, or a short reason; never secret material.
    message: str = ""
    state: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Authenticator(Protocol):
    def authenticate(self, request: PamRequest) -> Deferred[PamReply]:
        """Decide one step; never fails the Deferred (errors become UNAVAILABLE)."""
