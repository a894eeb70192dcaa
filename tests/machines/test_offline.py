"""The offline application in the core: the bag issued by a successful check, counters,
refill, and what refuses a refill."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from passlib.hash import pbkdf2_sha512

from tesserad.core.auth.request import AuthRequest
from tesserad.core.machines import offline, pbkdf2, service
from tesserad.core.tokens import oath
from tesserad.core.tokens.base import ParameterError, TokenError

from tests.wired import RFC4226, RFC_SEED_HEX, Core

SEED = bytes.fromhex(RFC_SEED_HEX)


def hotp(counter: int) -> str:
    return oath.hotp(SEED, counter)


def attach(core: Core, serial: str, **options: str) -> None:
    with core.database.session() as session:
        service.attach(session, serial, "offline", options)
        session.commit()


def refill(core: Core, serial: str, refilltoken: str, password: str) -> dict:
    with core.database.session() as session:
        items = offline.refill(session, serial, refilltoken, password, core.tokens.env(session))
        session.commit()
        return items


@pytest.fixture
def token(core: Core) -> str:
    return core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234", serial="OFF1")


def test_pbkdf2_format_is_passlibs() -> None:
    hashed = pbkdf2.hash_value("1234755224", 6549)
    assert re.fullmatch(r"\$pbkdf2-sha512\$6549\$[A-Za-z0-9./]{14}\$[A-Za-z0-9./]{86}", hashed)
    assert pbkdf2_sha512.verify("1234755224", hashed)
    assert not pbkdf2_sha512.verify("1234755225", hashed)
    theirs = pbkdf2_sha512.using(rounds=1000, salt_size=10).hash("1234287082")
    assert pbkdf2.verify("1234287082", theirs)
    assert not pbkdf2.verify("1234287083", theirs)
    assert not pbkdf2.verify("x", "$pbkdf2-sha512$0$$") and not pbkdf2.verify("x", "$argon2id$...")


def test_no_attachment_no_items(core: Core, token: str) -> None:
    result = core.check("1234" + RFC4226[0])
    assert result.accepted and result.auth_items is None
    assert core.token(token).count == 1


def test_bag_on_success(core: Core, token: str) -> None:
    attach(core, token, count="5", rounds="1000")
    result = core.check("1234" + RFC4226[0])
    assert result.accepted
    (item,) = result.auth_items["offline"]
    assert item["serial"] == token and item["user"] == item["username"] == "alice"
    assert item["count"] == "5" and item["rounds"] == "1000"
    assert re.fullmatch(r"[0-9a-f]{80}", item["refilltoken"])
    assert sorted(item["response"], key=int) == ["1", "2", "3", "4", "5"]
    for counter, hashed in item["response"].items():
        assert hashed.startswith("$pbkdf2-sha512$1000$")
        assert pbkdf2_sha512.verify("1234" + hotp(int(counter)), hashed)
        assert not pbkdf2_sha512.verify("9999" + hotp(int(counter)), hashed)
    # The server counter moved past the bag: its values are dead online.
    assert core.token(token).count == 6
    assert core.token_info(token, "offline_counter") == "5"
    assert not core.check("1234" + RFC4226[1]).accepted
    # A failed check issues nothing; the next online value gets a new bag.
    again = core.check("1234" + hotp(6))
    assert again.accepted and sorted(again.auth_items["offline"][0]["response"], key=int) == [
        "7", "8", "9", "10", "11"]
    assert again.auth_items["offline"][0]["refilltoken"] != item["refilltoken"]


def test_default_count_and_rounds(core: Core, token: str) -> None:
    attach(core, token)
    (item,) = core.check("1234" + RFC4226[0]).auth_items["offline"]
    assert len(item["response"]) == offline.DEFAULT_COUNT and "count" not in item
    assert item["response"]["1"].startswith("$pbkdf2-sha512$6549$")
    assert core.token(token).count == 101


def test_appended_pin_is_hashed_as_typed(core: Core, token: str) -> None:
    core.system(PrependPin="False")
    attach(core, token, count="2", rounds="10")
    (item,) = core.check(RFC4226[0] + "1234").auth_items["offline"]
    assert pbkdf2_sha512.verify(hotp(1) + "1234", item["response"]["1"])


def test_refill(core: Core, token: str) -> None:
    attach(core, token, count="5", rounds="10")
    (item,) = core.check("1234" + RFC4226[0]).auth_items["offline"]
    # The host used counters 1..3 offline, and proves it with the last one.
    items = refill(core, token, item["refilltoken"], "1234" + hotp(3))
    (fresh,) = items["offline"]
    assert sorted(fresh["response"], key=int) == ["6", "7", "8"]
    assert all(pbkdf2_sha512.verify("1234" + hotp(int(c)), h) for c, h in fresh["response"].items())
    assert core.token(token).count == 9
    assert fresh["refilltoken"] != item["refilltoken"]
    # The old refilltoken is gone, and a used value does not refill again.
    with pytest.raises(ParameterError, match="refill token is incorrect"):
        refill(core, token, item["refilltoken"], "1234" + hotp(4))
    with pytest.raises(offline.WrongOfflineValue):
        refill(core, token, fresh["refilltoken"], "1234" + hotp(3))
    assert core.token(token).count == 9


def test_refill_refusals_change_nothing(core: Core, token: str) -> None:
    attach(core, token, count="5", rounds="10")
    (item,) = core.check("1234" + RFC4226[0]).auth_items["offline"]
    with pytest.raises(ParameterError, match="refill token is incorrect"):
        refill(core, token, "0" * 80, "1234" + hotp(1))
    with pytest.raises(offline.WrongOfflineValue, match="wrong OTP value"):
        refill(core, token, item["refilltoken"], "1234" + hotp(7))  # not outstanding
    with pytest.raises(offline.WrongOfflineValue, match="wrong OTP value"):
        refill(core, token, item["refilltoken"], "9999" + hotp(1))  # wrong PIN
    assert core.token(token).count == 6
    with core.database.session() as session:
        core.tokens.get(session, token).row.active = False
        session.commit()
    with pytest.raises(TokenError):
        refill(core, token, item["refilltoken"], "1234" + hotp(1))


def test_refilltoken_is_not_shown(core: Core, token: str) -> None:
    attach(core, token, count="2", rounds="10")
    (item,) = core.check("1234" + RFC4226[0]).auth_items["offline"]
    with core.database.session() as session:
        shown = core.tokens.get(session, token).info_dict()
    assert shown["refilltoken"] != item["refilltoken"]


def test_machine_bound_attachment(core: Core, token: str, tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("# comment\n192.0.2.7 pam1.example.com pam1\nnot-an-ip x\n192.0.2.8 pam2\n")
    with core.database.session() as session:
        service.save_resolver(session, "hosts", "hosts", {"filename": str(hosts)})
        service.attach(session, token, "offline", {"count": "2", "rounds": "10"}, hostname="pam1")
        session.commit()
    # Another host (by address, by name) gets nothing; pam1 by name, by address or User-Agent does.
    assert core.check("1234" + hotp(0), client="192.0.2.8").auth_items is None
    assert core.check("1234" + hotp(1), client="192.0.2.9", nas="pam2").auth_items is None
    assert core.check("1234" + hotp(2), client="192.0.2.9", nas="pam1").auth_items is not None
    assert core.check("1234" + hotp(5), client="192.0.2.7").auth_items is not None
    result = core.check("1234" + hotp(8), client="192.0.2.9",
                        user_agent="privacyidea-pam/1.0 Hostname/pam1.example.com")
    assert result.auth_items is not None
    assert offline.computer_name("privacyidea-cp/2.0 Windows/LAPTOP-1 x/y") == "LAPTOP-1"
    assert offline.computer_name("curl/8.0") is None


def test_challenge_answer_gets_a_bag_of_otp_values_alone(core: Core, token: str) -> None:
    """PIN, challenge, OTP (privacyIDEA's PAM module): the answer never carries the PIN, so
    the bag hashes the OTP values alone, as privacyIDEA's does; its refill needs no PIN."""
    core.settings(challenge_response=frozenset({"hotp"}))
    attach(core, token, count="3", rounds="10")
    challenge = core.check("1234")
    answer = core.auth.authenticate(AuthRequest(password=RFC4226[0], user="alice",
                                                transaction_id=challenge.transaction_id))
    assert answer.accepted
    (item,) = answer.auth_items["offline"]
    assert sorted(item["response"], key=int) == ["1", "2", "3"]
    for counter, hashed in item["response"].items():
        assert pbkdf2_sha512.verify(hotp(int(counter)), hashed)
        assert not pbkdf2_sha512.verify("1234" + hotp(int(counter)), hashed)
    assert core.token(token).count == 4
    refilled = refill(core, token, item["refilltoken"], hotp(2))["offline"][0]
    assert sorted(refilled["response"], key=int) == ["4", "5"]
    assert pbkdf2_sha512.verify(hotp(4), refilled["response"]["4"])
    # A PIN+OTP login issues a PIN+OTP bag again, whose refill needs the PIN.
    again = core.check("1234" + hotp(6)).auth_items["offline"][0]
    assert pbkdf2_sha512.verify("1234" + hotp(7), again["response"]["7"])
    with pytest.raises(ParameterError, match="wrong OTP value"):
        refill(core, token, again["refilltoken"], hotp(7))
