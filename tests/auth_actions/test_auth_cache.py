"""Authentication policy ``auth_cache``: the same credentials accepted again for a while
(age, idle limit, use limit), remembered as a keyed hash, at most the use limit under
concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from pyrad import packet as rp
from sqlalchemy import select

from tesserad.core.auth.cache import CacheLimit
from tesserad.core.store.models import AuthCache

from tests.auth_actions.conftest import Radius, check
from tests.http.restapi import Api
from tests.http.test_token_api import enroll
from tests.radius.nas import access_request
from tests.wired import RFC4226, RFC_SEED_HEX, Core

pytestmark = pytest.mark.policy_action("authentication", "auth_cache")
LOGIN = "1234" + RFC4226[0]


def outcome(api: Api, password: str = LOGIN) -> tuple[str, str]:
    body = check(api, password)
    return body["result"]["authentication"], body["detail"]["message"]


def cache_rows(core: Core) -> list[AuthCache]:
    with core.database.session() as session:
        rows = list(session.scalars(select(AuthCache)))
        session.expunge_all()
        return rows


def test_the_same_credentials_pass_again_until_the_age(stored: Api) -> None:
    serial, _ = enroll(stored, stored.admin(), user="alice", pin="1234")
    stored.policy("cache", scope="authentication", action="auth_cache=4h")
    assert outcome(stored) == ("ACCEPT", "matching 1 tokens")
    stored.core.clock.advance(3 * 3600)
    assert outcome(stored) == ("ACCEPT", "Authenticated by AuthCache.")
    assert stored.core.token(serial).count == 1  # the token was not asked again
    assert outcome(stored, "1234000000")[0] == "REJECT"  # other credentials
    stored.core.clock.advance(3601)
    assert outcome(stored)[0] == "REJECT"  # too old: the token decides, and the value is used
    # Never the password in clear: a keyed hash of user, realm, resolver and password.
    [row] = cache_rows(stored.core)
    assert (row.username, row.realm) == ("alice", "example")
    assert len(row.password_hash) == 64 and RFC4226[0] not in row.password_hash and "1234" not in row.password_hash
    # Without the policy the cache is not used.
    stored.call("DELETE", "/policy/cache", stored.admin())
    assert outcome(stored, "1234" + RFC4226[3]) == ("ACCEPT", "matching 1 tokens")
    assert outcome(stored, "1234" + RFC4226[3])[0] == "REJECT"


def test_the_idle_limit(stored: Api) -> None:
    enroll(stored, stored.admin(), user="alice", pin="1234")
    stored.policy("cache", scope="authentication", action="auth_cache=4h/5m")
    assert outcome(stored)[0] == "ACCEPT"
    for _ in range(3):  # each use restarts the idle time
        stored.core.clock.advance(4 * 60)
        assert outcome(stored) == ("ACCEPT", "Authenticated by AuthCache.")
    stored.core.clock.advance(5 * 60 + 1)
    assert outcome(stored)[0] == "REJECT"


def test_the_use_limit(stored: Api) -> None:
    enroll(stored, stored.admin(), user="alice", pin="1234")
    stored.policy("cache", scope="authentication", action="auth_cache=2m/3")
    assert outcome(stored)[1] == "matching 1 tokens"
    assert [outcome(stored)[1] for _ in range(3)] == ["Authenticated by AuthCache."] * 3
    assert outcome(stored)[0] == "REJECT"


def test_the_use_limit_holds_under_concurrency(core: Core) -> None:
    core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    core.settings(auth_cache=CacheLimit.parse("1h/3"))
    assert core.check(LOGIN).accepted
    barrier = threading.Barrier(8)

    def login(_: int) -> bool:
        barrier.wait()
        return core.check(LOGIN).accepted

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(login, range(8)))
    assert sorted(results) == [False] * 5 + [True] * 3
    assert [row.auth_count for row in cache_rows(core)] == [3]


def test_serial_checks_are_not_cached(stored: Api) -> None:
    serial, _ = enroll(stored, stored.admin(), user="alice", pin="1234")
    stored.policy("cache", scope="authentication", action="auth_cache=1h")
    body = stored.call("POST", "/validate/check", params={"serial": serial, "pass": LOGIN})[1]
    assert body["result"]["authentication"] == "ACCEPT"
    assert cache_rows(stored.core) == []


def test_a_radius_retry_with_the_same_credentials_is_accepted(radius: Radius) -> None:
    api = radius.api
    enroll(api, api.admin(), user="alice", pin="1234")
    api.policy("cache", scope="authentication", action="auth_cache=10m")
    assert radius.ask(access_request("alice", LOGIN)).code == rp.AccessAccept
    assert radius.ask(access_request("alice", LOGIN)).code == rp.AccessAccept
    api.core.clock.advance(601)
    assert radius.ask(access_request("alice", LOGIN)).code == rp.AccessReject
