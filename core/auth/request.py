"""The seam between the edges and the engine: AuthRequest in, AuthResult out.

Every edge (RADIUS, PAM, HTTP) turns its protocol into an AuthRequest and the AuthResult
back into its protocol; the rules of authentication live only in the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from tesserad.core.errors import TesseraError
from tesserad.core.users.base import User
from tesserad.core.webauthn.wire import SignResponse

# Longest accepted ``pass``: PIN + OTP, or a WebAuthn assertion later. A 10 MB password
# is refused before any work is done.
MAX_PASSWORD_LENGTH = 4096
MAX_NAME_LENGTH = 320


class Outcome(str, Enum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    CHALLENGE = "CHALLENGE"


@dataclass(frozen=True)
class AuthRequest:
    password: str
    user: str | None = None
    realm: str | None = None
    serial: str | None = None
    transaction_id: str | None = None
    token_type: str | None = None
    otp_only: bool = False
    client: str = ""
    # Behind proxies: X-Forwarded-For hops and the ``client`` parameter, honoured only as the
    # system setting OverrideAuthorizationClient allows (core/proxies.py).
    forwarded: tuple[str, ...] = ()
    claimed_client: str | None = None
    protocol: str = "http"
    # NAS identity (RADIUS) or host name (PAM), for audit and policies.
    nas: str = ""
    user_agent: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    # An answer to a WebAuthn challenge (with the Origin header), decoded by the core.
    webauthn: SignResponse | None = None

    @property
    def carries_assertions(self) -> bool:
        """Only HTTP can carry a WebAuthn assertion: RADIUS and PAM have no field for one."""
        return self.protocol == "http"


@dataclass(frozen=True)
class IssuedChallenge:
    serial: str
    transaction_id: str
    message: str
    type: str
    # When the challenge stops being answerable (an edge may tell the client, e.g. RADIUS
    # Session-Timeout); not part of the HTTP answer.
    expires_at: datetime
    client_mode: str = "interactive"
    attributes: Mapping[str, Any] | None = None
    # A token enrolled inside the login: the QR code of its otpauth URL (a data: URI, the
    # answer's ``image``) and the URL itself (for edges that show only text).
    image: str | None = None
    enrollment_url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"serial": self.serial, "transaction_id": self.transaction_id,
                               "message": self.message, "type": self.type, "client_mode": self.client_mode}
        if self.image:
            out["image"] = self.image
        if self.attributes:
            out["attributes"] = dict(self.attributes)
        return out


class NotAuthorized(TesseraError):
    """Authorization policy ``authorized=deny_access`` refused a user who authenticated
    (privacyIDEA's ValidateError, 401)."""


@dataclass
class AuthResult:
    outcome: Outcome
    message: str
    user: User | None = None
    serial: str | None = None
    token_type: str | None = None
    otplen: int | None = None
    # What the token adds to the answer's detail (4eyes: ``foureyes``, the realm short of tokens).
    reply: dict[str, str] = field(default_factory=dict)
    challenges: list[IssuedChallenge] = field(default_factory=list)
    # The accepted token's tokeninfo next_pin_change, and whether that date has come.
    next_pin_change: str | None = None
    pin_change: bool | None = None
    # For a challenge: the client mode the policy prefers among the challenges' modes.
    preferred_client_mode: str | None = None
    # Names of the policies (or built-in rules) that decided, for the audit trail.
    decided_by: list[str] = field(default_factory=list)
    # Machine application items for the client (privacyIDEA's ``auth_items``, e.g. offline hashes).
    auth_items: dict[str, Any] | None = None
    # An authorization policy refused after the value was used up: the caller commits, then raises it.
    refusal: TesseraError | None = None
    # What an edge may release about the user of a granted request, as the authorization
    # policies allow (add_user_in_response: the user's attributes; add_resolver_in_response:
    # realm and resolver). Edges use these and never ask the policies or the user store again.
    user_attributes: dict[str, Any] | None = None
    release_resolver: bool = False
    # no_detail_on_success / no_detail_on_fail, for edges whose answer carries details (HTTP).
    no_detail_on_success: bool = False
    no_detail_on_fail: bool = False

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPT

    @property
    def prompt(self) -> str:
        """The challenge as text, for edges that show nothing else (RADIUS Reply-Message, a
        PAM prompt): the message, then the otpauth URL of a token to add, on lines of their own."""
        return "\n".join([self.message, *(c.enrollment_url for c in self.challenges if c.enrollment_url)])

    @property
    def transaction_id(self) -> str | None:
        return self.challenges[0].transaction_id if self.challenges else None
