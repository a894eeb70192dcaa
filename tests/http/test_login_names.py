"""``POST /auth`` normalises the login name once, before the throttle and the lookup: the
spellings a user store takes for one user share one failure budget (security issue 27)."""

from __future__ import annotations

from tesserad.core.login_throttle import user_key

from tests.http.people import PASSWORDS
from tests.http.restapi import Api


def login(api: Api, username: str, password: str) -> int:
    return api.call("POST", "/auth", params={"username": username, "password": password, "realm": "sales"})[0]


def test_spellings_of_one_name_share_one_budget(people: Api) -> None:
    people.configure(login_failures_per_user=3)
    for spelling in (" dave", "DAVE\t", "d\uff41ve"):  # spaces, case, a fullwidth letter
        assert login(people, spelling, "wrong") == 401
    assert login(people, "dave", PASSWORDS["dave"]) == 401  # the budget is used up
    assert login(people, "erin", PASSWORDS["erin"]) == 200


def test_a_padded_name_logs_in_as_the_trimmed_one(people: Api) -> None:
    assert login(people, "  dave ", PASSWORDS["dave"]) == 200
    assert login(people, "   ", "x") == 401


def test_the_budget_key() -> None:
    assert user_key(" Alice  Smith ", "r") == user_key("alice smith", "r") == "alice smith@r"
    assert user_key("STRASSE", "r") == user_key("stra\u00dfe", "r")  # full case folding
    assert user_key("bob", "a") != user_key("bob", "b")
