"""HOTP and TOTP token classes: RFC test vectors, windows, replay, resync, enrollment URIs,
and that racing requests consume a value exactly once."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest

from tesserad.core.clock import FixedClock
from tesserad.core.store import Database
from tesserad.core.tokens import oath
from tesserad.core.tokens.base import ParameterError, TokenEnv

from tests.tokens.conftest import Enroll, load

SEED20 = b"12345678901234567890"
SEED32 = b"12345678901234567890123456789012"
SEED64 = b"1234567890123456789012345678901234567890123456789012345678901234"
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
RFC6238 = [  # RFC 6238 Appendix B: time, then the 8-digit values for SHA1, SHA256, SHA512
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
SEEDS = {"sha1": SEED20, "sha256": SEED32, "sha512": SEED64}


# ---- the algorithms ------------------------------------------------------------------------

def test_hotp_rfc4226_appendix_d() -> None:
    assert [oath.hotp(SEED20, counter) for counter in range(10)] == RFC4226


@pytest.mark.parametrize("when, sha1, sha256, sha512", RFC6238)
def test_totp_rfc6238_appendix_b(when: int, sha1: str, sha256: str, sha512: str) -> None:
    step = oath.time_step(when, 30)
    for name, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        assert oath.hotp(SEEDS[name], step, 8, name) == expected


def test_find_counter_reports_the_first_match_only_inside_the_window() -> None:
    assert oath.find_counter(SEED20, RFC4226[3], 0, 10, 6, "sha1") == 3
    assert oath.find_counter(SEED20, RFC4226[3], 4, 10, 6, "sha1") == -1
    assert oath.find_counter(SEED20, RFC4226[3], 0, 3, 6, "sha1") == -1


# ---- HOTP ------------------------------------------------------------------------------

@pytest.mark.both_backends
def test_hotp_token_accepts_rfc_values_in_order_once(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("hotp", {"otpkey": SEED20.hex()})
    for counter, value in enumerate(RFC4226):
        with database.session() as session:
            token = load(session, env, serial)
            assert token.check_otp(value) == counter
            assert token.consume(session, counter) is True
            session.commit()
        with database.session() as session:
            token = load(session, env, serial)
            assert token.row.count == counter + 1
            assert token.check_otp(value) == -1
            assert token.previously_used(value) is True
            assert token.consume(session, counter) is False  # a replay cannot move the counter


def test_hotp_window_is_count_window(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("hotp", {"otpkey": SEED20.hex()})
    value10 = oath.hotp(SEED20, 10)
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.count_window == 10
        assert token.check_otp(value10) == -1          # counters 0..9 only
        assert token.previously_used(value10) is False
        assert token.check_otp(RFC4226[9]) == 9        # the far end of the window
        assert token.consume(session, 9)
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_otp(value10) == 10
        assert token.check_otp(RFC4226[5]) == -1       # skipped values are gone
        assert token.previously_used(RFC4226[5]) is True


def test_hotp_otplen_8_and_sha256(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("hotp", {"otpkey": SEED32.hex(), "otplen": "8", "hashlib": "sha256"})
    with database.session() as session:
        token = load(session, env, serial)
        assert (token.row.otplen, token.info("hashlib")) == (8, "sha256")
        assert token.check_otp(oath.hotp(SEED32, 2, 8, "sha256")) == 2
        assert token.check_otp(oath.hotp(SEED32, 2, 8, "sha1")) == -1


def test_hotp_resync(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("hotp", {"otpkey": SEED20.hex()})
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_otp(oath.hotp(SEED20, 500)) == -1
        assert token.resync(oath.hotp(SEED20, 500), oath.hotp(SEED20, 502)) is None  # not consecutive
        assert token.resync(oath.hotp(SEED20, 1200), oath.hotp(SEED20, 1201)) is None  # beyond sync_window
        matched = token.resync(oath.hotp(SEED20, 500), oath.hotp(SEED20, 501))
        assert matched == 501
        assert token.consume(session, matched)
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.count == 502
        assert token.check_otp(oath.hotp(SEED20, 502)) == 502
        assert token.check_otp(oath.hotp(SEED20, 501)) == -1


def test_hotp_enrollment_detail_and_uri(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("hotp", {"genkey": "1", "hashlib": "sha256"})
    uri = detail["googleurl"]["value"]
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "hotp", f"/tesserad:{serial}")
    assert query["counter"] == ["0"] and query["digits"] == ["6"]
    assert query["algorithm"] == ["SHA256"] and query["issuer"] == ["tesserad"]
    secret = query["secret"][0]
    assert "=" not in secret
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert len(key) == 32  # sha256 default keysize
    assert detail["otpkey"]["value"] == f"seed://{key.hex()}"
    assert detail["googleurl"]["img"].startswith("data:image/png;base64,")
    assert f"key={key.hex()}" in detail["oathurl"]["value"]
    with database.session() as session:
        token = load(session, env, serial)
        assert token.secret() == key
        assert token.row.secret_enc is not None and key not in token.row.secret_enc


def test_hotp_given_key_is_not_echoed(enroll: Enroll) -> None:
    _, detail = enroll("hotp", {"otpkey": SEED20.hex(), "tokenlabel": "alice", "tokenissuer": "Example"})
    assert "otpkey" not in detail
    assert detail["googleurl"]["value"].startswith("otpauth://hotp/Example:alice?secret=")
    assert "algorithm" not in detail["googleurl"]["value"]  # sha1 is the default and omitted


@pytest.mark.parametrize("params", [
    {},                                               # no key
    {"genkey": "1", "otpkey": SEED20.hex()},          # both
    {"otpkey": "not hex"},
    {"otpkey": SEED20.hex(), "otplen": "7"},
    {"otpkey": SEED20.hex(), "hashlib": "md4"},
])
def test_hotp_enrollment_refuses_bad_parameters(enroll: Enroll, params: dict[str, str]) -> None:
    with pytest.raises(ParameterError):
        enroll("hotp", params)


def test_hotp_base32check_key(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    import hashlib
    good = base64.b32encode(hashlib.sha1(SEED20).digest()[:4] + SEED20).decode().rstrip("=")
    serial, _ = enroll("hotp", {"otpkey": good, "otpkeyformat": "base32check"})
    with database.session() as session:
        assert load(session, env, serial).check_otp(RFC4226[0]) == 0
    bad = base64.b32encode(b"\0\0\0\0" + SEED20).decode().rstrip("=")
    with pytest.raises(ParameterError):
        enroll("hotp", {"otpkey": bad, "otpkeyformat": "base32check"})


def _race(database: Database, env: TokenEnv, serial: str, otp: str, contenders: int = 2) -> list[bool]:
    """Each contender checks ``otp`` before any consumes (so all see it valid), then all
    consume at once, each in its own session and transaction."""
    barrier = threading.Barrier(contenders)

    def contender(_: int) -> bool:
        with database.session() as session:
            token = load(session, env, serial)
            matched = token.check_otp(otp)
            assert matched >= 0
            barrier.wait(timeout=30)
            won = token.consume(session, matched)
            session.commit()
            return won

    with ThreadPoolExecutor(contenders) as pool:
        return list(pool.map(contender, range(contenders)))


@pytest.mark.both_backends
def test_hotp_racing_consumers_exactly_one_wins(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("hotp", {"otpkey": SEED20.hex()})
    assert sorted(_race(database, env, serial, RFC4226[0], contenders=4)) == [False, False, False, True]
    with database.session() as session:
        assert load(session, env, serial).row.count == 1


@pytest.mark.both_backends
def test_hotp_stale_reader_loses(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    """Two requests read the token, the first consumes and commits, then the second tries."""
    serial, _ = enroll("hotp", {"otpkey": SEED20.hex()})
    with database.session() as first, database.session() as second:
        a, b = load(first, env, serial), load(second, env, serial)
        assert a.check_otp(RFC4226[2]) == b.check_otp(RFC4226[2]) == 2
        assert a.consume(first, 2) is True
        first.commit()
        assert b.consume(second, 2) is False
        assert b.row.count == 0  # the loser's view is unchanged
        second.commit()


# ---- TOTP ------------------------------------------------------------------------------

@pytest.mark.parametrize("when, sha1, sha256, sha512", RFC6238)
def test_totp_token_rfc6238_vectors(database: Database, env: TokenEnv, enroll: Enroll, clock: FixedClock,
                                    when: int, sha1: str, sha256: str, sha512: str) -> None:
    clock.set(when)
    for name, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        serial, _ = enroll("totp", {"otpkey": SEEDS[name].hex(), "hashlib": name, "otplen": "8"})
        with database.session() as session:
            token = load(session, env, serial)
            assert token.check_otp(expected) == when // 30, name


def _totp_value(step: int, digits: int = 6) -> str:
    return oath.hotp(SEED20, step, digits)


def test_totp_window_is_time_window_both_ways(database: Database, env: TokenEnv, enroll: Enroll,
                                             clock: FixedClock) -> None:
    serial, _ = enroll("totp", {"otpkey": SEED20.hex()})
    now = int(clock.now()) // 30
    with database.session() as session:
        token = load(session, env, serial)
        assert token.info("timeStep") == "30" and token.info("timeWindow") == "180"
        assert token.check_otp(_totp_value(now)) == now
        assert token.check_otp(_totp_value(now - 6)) == now - 6   # 180 s = 6 steps back
        assert token.check_otp(_totp_value(now + 6)) == now + 6
        assert token.check_otp(_totp_value(now - 7)) == -1
        assert token.check_otp(_totp_value(now + 7)) == -1


@pytest.mark.both_backends
def test_totp_replay_and_older_values_refused(database: Database, env: TokenEnv, enroll: Enroll,
                                             clock: FixedClock) -> None:
    serial, _ = enroll("totp", {"otpkey": SEED20.hex()})
    now = int(clock.now()) // 30
    with database.session() as session:
        token = load(session, env, serial)
        assert token.consume(session, token.check_otp(_totp_value(now)))
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.count == now + 1
        assert token.check_otp(_totp_value(now)) == -1
        assert token.previously_used(_totp_value(now)) is True
        assert token.check_otp(_totp_value(now - 1)) == -1       # older than the last used
        assert token.consume(session, now) is False
        clock.advance(30)
        assert token.check_otp(_totp_value(now + 1)) == now + 1   # the next step is fine
        assert token.previously_used(_totp_value(now + 2)) is False


def test_totp_tracks_drift_in_time_shift(database: Database, env: TokenEnv, enroll: Enroll,
                                        clock: FixedClock) -> None:
    serial, _ = enroll("totp", {"otpkey": SEED20.hex()})
    now = int(clock.now()) // 30
    with database.session() as session:
        token = load(session, env, serial)
        assert token.consume(session, token.check_otp(_totp_value(now + 3)))
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.info("timeShift") == "90"
        # The window now centres on the token's clock: 6 steps beyond it are reachable.
        assert token.check_otp(_totp_value(now + 3 + 6)) == now + 9
        assert token.check_otp(_totp_value(now + 3 + 7)) == -1


def test_totp_60_second_step_and_uri(database: Database, env: TokenEnv, enroll: Enroll, clock: FixedClock) -> None:
    serial, detail = enroll("totp", {"otpkey": SEED20.hex(), "timeStep": "60", "otplen": "8"})
    query = parse_qs(urlsplit(detail["googleurl"]["value"]).query)
    assert query["period"] == ["60"] and query["digits"] == ["8"] and "counter" not in query
    assert urlsplit(detail["googleurl"]["value"]).netloc == "totp"
    with database.session() as session:
        token = load(session, env, serial)
        step = int(clock.now()) // 60
        assert token.check_otp(oath.hotp(SEED20, step, 8)) == step
    with pytest.raises(ParameterError):
        enroll("totp", {"otpkey": SEED20.hex(), "timeStep": "45"})


def test_totp_defaults_from_system_settings(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("totp", {"otpkey": SEED20.hex()},
                       extra={"totp.timeStep": "60", "totp.timeWindow": "300", "totp.hashlib": "sha256"})
    with database.session() as session:
        token = load(session, env, serial)
        assert (token.info("timeStep"), token.info("timeWindow"), token.info("hashlib")) == ("60", "300", "sha256")


def test_totp_resync(database: Database, env: TokenEnv, enroll: Enroll, clock: FixedClock) -> None:
    serial, _ = enroll("totp", {"otpkey": SEED20.hex()})
    now = int(clock.now()) // 30
    with database.session() as session:
        token = load(session, env, serial)
        far = now + 100  # 50 minutes ahead: outside the 3-minute window, inside sync_window steps
        assert token.check_otp(_totp_value(far)) == -1
        assert token.resync(_totp_value(far), _totp_value(far + 2)) is None
        matched = token.resync(_totp_value(far), _totp_value(far + 1))
        assert matched == far + 1
        assert token.consume(session, matched)
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.count == far + 2
        assert token.info("timeShift") == str((far + 1 - now) * 30)
        assert token.check_otp(_totp_value(far + 2)) == far + 2


@pytest.mark.both_backends
def test_totp_racing_consumers_exactly_one_wins(database: Database, env: TokenEnv, enroll: Enroll,
                                               clock: FixedClock) -> None:
    serial, _ = enroll("totp", {"otpkey": SEED20.hex()})
    value = _totp_value(int(clock.now()) // 30)
    assert sorted(_race(database, env, serial, value, contenders=3)) == [False, False, True]


# ---- PIN and the split of ``pass`` -------------------------------------------------------

def test_split_pin_follows_prepend_pin(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    import dataclasses
    serial, _ = enroll("hotp", {"otpkey": SEED20.hex()})
    with database.session() as session:
        token = load(session, env, serial)
        assert token.split_pin("secret755224") == ("secret", "755224")
        assert token.split_pin("12345") == ("", "12345")  # too short for an OTP: all OTP part
        appended = dataclasses.replace(env, settings=dataclasses.replace(env.settings, PrependPin=False))
        assert type(token)(token.row, appended).split_pin("755224secret") == ("secret", "755224")


def test_pin_is_hashed_or_encrypted_and_checked(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("hotp", {"otpkey": SEED20.hex()})
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_pin("") is True and token.check_pin("x") is False
        token.set_pin("s3cret")
        assert token.row.pin_hash and "s3cret" not in token.row.pin_hash
        assert token.check_pin("s3cret") is True and token.check_pin("s3cre") is False
        token.set_pin("other", encrypt=True)
        assert token.row.pin_hash is None and token.row.pin_enc is not None
        assert token.check_pin("other") is True and token.check_pin("s3cret") is False
