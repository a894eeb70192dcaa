"""Indexed secret: the user and the server share a secret string; the server asks for the
characters at a few random positions, so one observed login does not reveal the secret."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tesserad.core.tokens.base import ChallengeSpec, ParameterError, TokenClass, TokenError, param_bool, param_int
from tesserad.core.tokens.registry import register

DEFAULT_CHALLENGE_TEXT = "Please enter the positions {0!s} from your secret."
DEFAULT_POSITION_COUNT = 2
DEFAULT_KEYSIZE = 20


@register
class IndexedSecretToken(TokenClass):
    """Challenge only (``challenge_always``): the PIN starts it, the answer is the requested
    characters concatenated. The positions (1-based, comma-separated) are the challenge's
    ``data``, so any node can check the answer."""

    type = "indexedsecret"
    prefix = "PIIX"
    title = "Indexed Secret Token"
    challenge_always = True

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = super().enroll(params)
        generate = param_bool(params, "genkey") or not params.get("otpkey")
        if generate and params.get("otpkey"):
            raise ParameterError("give either genkey or otpkey, not both")
        if generate:
            secret = secrets.token_hex(param_int(params, "keysize", DEFAULT_KEYSIZE))
            detail["otpkey"] = {"description": "OTP seed", "value": f"seed://{secret}"}
        else:
            secret = str(params["otpkey"])
        if not secret:
            raise ParameterError("the secret must not be empty")
        self.set_secret(secret.encode())
        return detail

    def _secret_text(self) -> str:
        return self.secret().decode()

    def position_count(self) -> int:
        """How many positions to ask: the auth policy ``indexedsecret_count`` when the caller
        put it into ``env.extra``, else the system setting ``indexedsecret.count``, else 2."""
        extra = self.env.extra
        raw = extra.get("indexedsecret_count") or extra.get("indexedsecret.count") or DEFAULT_POSITION_COUNT
        try:
            return max(1, int(raw))
        except ValueError:
            return DEFAULT_POSITION_COUNT

    def create_challenge(self, text: str | None = None) -> ChallengeSpec:
        length = len(self._secret_text())
        if not length:
            raise TokenError("The indexedsecret token has an empty secret and can not be used for authentication.")
        positions = [secrets.randbelow(length) + 1 for _ in range(self.position_count())]
        listed = ",".join(str(p) for p in positions)
        # A text without the {0!s} tag would not tell the user which positions to enter.
        template = (text if text and "{0" in text else DEFAULT_CHALLENGE_TEXT).replace(r"\,", ",")
        try:
            message = template.format(listed)
        except (IndexError, KeyError, ValueError):
            message = DEFAULT_CHALLENGE_TEXT.format(listed)
        return ChallengeSpec(message=message, data=listed, attributes={"random_positions": positions})

    def check_otp(self, otp: str) -> int:
        return -1  # no single-shot mode: the answer depends on the challenge

    def check_challenge_response(self, answer: str, challenge_data: str) -> int:
        try:
            positions = [int(p) for p in challenge_data.split(",")]
        except ValueError:
            return -1
        secret = self._secret_text()
        if not positions or any(not 1 <= p <= len(secret) for p in positions):
            return -1
        expected = "".join(secret[p - 1] for p in positions)
        return 0 if hmac.compare_digest(expected.encode(), answer.encode()) else -1

    def consume(self, session: Session, matched: int) -> bool:
        # Nothing to use up here: the engine deletes the answered challenge atomically.
        return True
