"""Authorization limits through the public engine: auth_max_fail, auth_max_success (per user
and period, from the audit trail) and last_auth; and how the policies reach AuthSettings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tesserad.core.auth.limits import RateLimit, parse_age
from tesserad.core.auth.request import Outcome
from tesserad.core.tokens.base import ChallengeOptions

from tests.wired import RFC4226, RFC_SEED_HEX, Core


def hotp_for(core: Core, login: str = "alice") -> str:
    return core.enroll(login, type="hotp", otpkey=RFC_SEED_HEX, pin="1234")


def test_rate_and_age_values() -> None:
    assert RateLimit.parse("2/5m") == RateLimit(2, timedelta(minutes=5))
    assert RateLimit.parse("10/30s") == RateLimit(10, timedelta(seconds=30))
    assert RateLimit.parse("1/2h") == RateLimit(1, timedelta(hours=2))
    assert (parse_age("12h"), parse_age("123d"), parse_age("2y")) == (
        timedelta(hours=12), timedelta(days=123), timedelta(days=730))
    for bad in ("2/5", "5m", "2/5d", "x/5m"):
        with pytest.raises(ValueError):
            RateLimit.parse(bad)
    with pytest.raises(ValueError):
        parse_age("12m")


def test_auth_max_fail_refuses_even_the_right_otp_and_burns_it(core: Core) -> None:
    serial = hotp_for(core)
    hotp_for(core, "bob")
    core.settings(auth_max_fail=RateLimit(2, timedelta(minutes=1)))
    assert core.check("1234000000").message == "wrong otp pin or otp value"
    assert core.check("9999" + RFC4226[0]).message == "wrong otp pin"
    limited = core.check("1234" + RFC4226[0])
    assert (limited.outcome, limited.message) == (Outcome.REJECT, "Only 2 failed authentications per 0:01:00")
    token = core.token(serial)
    assert (token.count, token.count_auth_success, token.failcount) == (1, 0, 2)  # used up, no success
    assert core.check("0000").message == "Only 2 failed authentications per 0:01:00"
    assert core.check("1234" + RFC4226[0], user="bob").outcome is Outcome.ACCEPT  # per user
    core.clock.advance(61)  # the failures are older than the period now
    assert core.check("1234" + RFC4226[1]).outcome is Outcome.ACCEPT
    assert core.token(serial).failcount == 0


def test_auth_max_fail_refuses_challenges(core: Core) -> None:
    hotp_for(core)
    core.settings(auth_max_fail=RateLimit(1, timedelta(minutes=5)), challenge_response=frozenset({"hotp"}))
    assert core.check("1234").outcome is Outcome.CHALLENGE  # a challenge is no failure
    assert core.check("1234000000").outcome is Outcome.REJECT
    refused = core.check("1234")
    assert (refused.outcome, refused.challenges) == (Outcome.REJECT, [])
    assert refused.message == "Only 1 failed authentications per 0:05:00"


def test_auth_max_success_refuses_the_next_success(core: Core) -> None:
    serial = hotp_for(core)
    core.settings(auth_max_success=RateLimit(2, timedelta(minutes=5)))
    assert core.check("1234" + RFC4226[0]).accepted and core.check("1234" + RFC4226[1]).accepted
    last_auth = core.token(serial).last_auth_at
    core.clock.advance(60)
    refused = core.check("1234" + RFC4226[2])
    assert (refused.outcome, refused.message) == (Outcome.REJECT, "Only 2 successful authentications per 0:05:00")
    token = core.token(serial)
    assert (token.count, token.count_auth_success, token.last_auth_at) == (3, 2, last_auth)
    assert core.check("1234000000").message == "wrong otp pin or otp value"  # only a success is limited
    core.clock.advance(4 * 60 + 1)
    assert core.check("1234" + RFC4226[3]).accepted


def test_last_auth_refuses_a_token_unused_for_too_long(core: Core) -> None:
    serial = hotp_for(core)
    core.settings(last_auth=timedelta(hours=12))
    assert core.check("1234" + RFC4226[0]).accepted  # never used: allowed
    core.clock.advance(12 * 3600)
    assert core.check("1234" + RFC4226[1]).accepted  # exactly the limit: allowed
    last = core.token(serial).last_auth_at
    assert last is not None
    core.clock.advance(12 * 3600 + 1)
    refused = core.check("1234" + RFC4226[2])
    assert (refused.outcome, refused.serial) == (Outcome.REJECT, serial)
    assert refused.message == f"The last successful authentication was {last.isoformat()}. It is to long ago."
    # A refused login is no use of the token: it stays refused.
    assert core.check("1234" + RFC4226[3]).outcome is Outcome.REJECT
    assert core.token(serial).last_auth_at == last
    core.settings(last_auth=None)
    assert core.check("1234" + RFC4226[4]).accepted


def test_last_auth_applies_to_challenge_answers(core: Core) -> None:
    hotp_for(core)
    core.settings(challenge_response=frozenset({"hotp"}))
    tid = core.check("1234").transaction_id
    assert core.check(RFC4226[0], transaction_id=tid).accepted
    core.settings(last_auth=timedelta(hours=1))
    core.clock.advance(3601)
    tid = core.check("1234").transaction_id
    answer = core.check(RFC4226[1], transaction_id=tid)
    assert answer.outcome is Outcome.REJECT and answer.message.startswith("The last successful authentication")


def test_policies_reach_the_settings(core: Core) -> None:
    from tesserad.core.policy.auth import PolicyAuthPolicies
    from tesserad.core.policy.store import PolicyStore

    store = PolicyStore(core.clock)
    with core.database.session() as session:
        store.set_policy(session, "limits", scope="authorization",
                         action="auth_max_fail=3/2m, auth_max_success=10/1h, last_auth=2d")
        store.set_policy(session, "steps", scope="authentication", action="indexedsecret_count=4, question_number=3")
        session.commit()
        settings = PolicyAuthPolicies(store, "node1").for_request(session, core.user("alice"), "10.0.0.1")
    assert settings.auth_max_fail == RateLimit(3, timedelta(minutes=2))
    assert settings.auth_max_success == RateLimit(10, timedelta(hours=1))
    assert settings.last_auth == timedelta(days=2)
    assert settings.challenge_options == ChallengeOptions(None, position_count=4, question_number=3)
    assert settings.policy_names == ("steps", "limits")
