"""Token-type facts live on the token classes (not in lists across edges and core): the
types each fact picks out, as the spec lists them."""

from __future__ import annotations

from tesserad.core.tokens.registry import load_all


def types_where(fact: str, value: bool) -> set[str]:
    return {name for name, cls in load_all().items() if getattr(cls, fact) is value}


def test_each_fact_picks_the_spec_types() -> None:
    # /token/getserial does not try types without an OTP value of their own.
    assert types_where("generates_otp", False) == {"spass", "pw", "registration", "question", "indexedsecret",
                                                   "webauthn", "passkey", "push", "4eyes"}
    # Only a WebAuthn assertion answers these; RADIUS and PAM cannot carry one.
    assert types_where("answers_assertions", True) == {"webauthn", "passkey"}
    # verify_enrollment applies to HOTP and TOTP only (not to their paper and day-password kin).
    assert types_where("verifiable_at_enrollment", True) == {"hotp", "totp"}
    assert types_where("user_enrollable", False) == {"pw", "registration", "4eyes"}
    # Tokens of other users confirm it; the engine checks it with their values.
    assert types_where("confirmed_by_others", True) == {"4eyes"}
    # The slow out-of-band type: the engine tries the user's other tokens first.
    assert types_where("sort_last", True) == {"push"}
