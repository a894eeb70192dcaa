"""Indexed secret: the user and the server share a secret string; the server asks for the
characters at a few random positions, so one observed login does not reveal the secret."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from tesserad.core.tokens.base import (
    ChallengeOptions,
    ChallengeSpec,
    ParameterError,
    TokenClass,
    TokenError,
    param_bool,
    param_int,
)
from tesserad.core.tokens.registry import register

DEFAULT_CHALLENGE_TEXT = "Please enter the positions {0!s} from your secret."
DEFAULT_POSITION_COUNT = 2
DEFAULT_KEYSIZE = 20


@register
class IndexedSecretToken(TokenClass):
    """Challenge only (``challenge_always``): the PIN starts it, the answer is the requested
    characters concatenated. The positions (1-based, comma-separated) are the challenge's
    ``data``, so any node can check the answer. With tokeninfo ``multichallenge=1`` the
    positions are asked one per challenge, each answer bringing the next."""

    type = "indexedsecret"
    generates_otp = False
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

    def position_count(self, options: ChallengeOptions) -> int:
        """How many positions to ask: the auth policy ``indexedsecret_count``, else the
        system setting ``indexedsecret.count``, else 2."""
        raw = options.position_count or self.env.extra.get("indexedsecret.count") or DEFAULT_POSITION_COUNT
        try:
            return max(1, int(raw))
        except ValueError:
            return DEFAULT_POSITION_COUNT

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        length = len(self._secret_text())
        if not length:
            raise TokenError("The indexedsecret token has an empty secret and can not be used for authentication.")
        positions = [secrets.randbelow(length) + 1 for _ in range(self.position_count(options))]
        # tokeninfo multichallenge=1: one position per challenge, one after the other.
        step = 0 if param_bool(self.info_dict(), "multichallenge") else None
        return self._challenge(positions, step, options.text)

    @staticmethod
    def _challenge(positions: list[int], step: int | None, text: str | None) -> ChallengeSpec:
        asked = positions if step is None else [positions[step]]
        listed = ",".join(str(p) for p in asked)
        # A text without the {0!s} tag would not tell the user which positions to enter.
        template = (text if text and "{0" in text else DEFAULT_CHALLENGE_TEXT).replace(r"\,", ",")
        try:
            message = template.format(listed)
        except (IndexError, KeyError, ValueError):
            message = DEFAULT_CHALLENGE_TEXT.format(listed)
        data = ",".join(str(p) for p in positions) + ("" if step is None else f"/{step}")
        return ChallengeSpec(message=message, data=data, attributes={"random_positions": asked})

    def check_otp(self, otp: str) -> int:
        return -1  # no single-shot mode: the answer depends on the challenge

    def check_challenge_response(self, answer: str, challenge_data: str) -> int:
        parsed = _parse(challenge_data)
        if parsed is None:
            return -1
        positions, step = parsed
        asked = positions if step is None else [positions[step]]
        secret = self._secret_text()
        if any(not 1 <= p <= len(secret) for p in asked):
            return -1
        expected = "".join(secret[p - 1] for p in asked)
        return 0 if hmac.compare_digest(expected.encode(), answer.encode()) else -1

    def next_challenge(self, challenge_data: str, options: ChallengeOptions) -> ChallengeSpec | None:
        parsed = _parse(challenge_data)
        if parsed is None or parsed[1] is None or parsed[1] + 1 >= len(parsed[0]):
            return None
        return self._challenge(parsed[0], parsed[1] + 1, options.text)

    def next_count(self, matched: int) -> None:
        return None  # nothing to use up here: the engine deletes the answered challenge atomically


def _parse(challenge_data: str) -> tuple[list[int], int | None] | None:
    """A challenge's ``data``: ``3,7`` (all positions at once) or ``3,7,5/1`` (the positions of
    a multichallenge and the index of the one asked now); None when malformed."""
    listed, slash, step_text = challenge_data.partition("/")
    try:
        positions = [int(p) for p in listed.split(",")]
        step = int(step_text) if slash else None
    except ValueError:
        return None
    if step is not None and not 0 <= step < len(positions):
        return None
    return positions, step
