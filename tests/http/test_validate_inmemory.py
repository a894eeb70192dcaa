"""/validate/* through the real twisted.web request path in memory (treq's StubTreq), with
the clock and the policy settings injected: RFC 6238 times and challenge-response."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from treq.testing import StubTreq

from tesserad.admin_web.health import Health
from tesserad.admin_web.site import Root, build_site
from tesserad.admin_web.validate import Validate

from tests.helpers import run_inline
from tests.http.restapi import resolved
from tests.wired import RFC4226, RFC_SEED_HEX, Core


@pytest.fixture
def http(core: Core) -> StubTreq:
    root = Root(Health(run_inline, lambda: None), Validate(run_inline, core.auth))
    return StubTreq(build_site(root).resource)


def post(http: StubTreq, path: str, params: dict[str, str]) -> tuple[int, Any]:
    response = resolved(http.post(f"http://localhost{path}", data=urlencode(params).encode(),
                                  headers={"Content-Type": "application/x-www-form-urlencoded"}))
    return response.code, json.loads(resolved(response.content()))


@pytest.mark.parametrize("name, seed, when, value", [
    ("sha1", b"12345678901234567890", 59, "94287082"),
    ("sha256", b"12345678901234567890123456789012", 1111111109, "68084774"),
    ("sha512", b"1234567890123456789012345678901234567890123456789012345678901234", 1234567890, "93441116"),
])
def test_totp_vectors_over_http(core: Core, http: StubTreq, name: str, seed: bytes, when: int, value: str) -> None:
    core.clock.set(when)
    serial = core.enroll("carol", type="totp", otpkey=seed.hex(), hashlib=name, otplen=8)
    status, body = post(http, "/validate/check", {"user": "carol", "pass": value})
    assert status == 200
    assert body["result"] == {"status": True, "value": True, "authentication": "ACCEPT"}
    assert body["detail"]["serial"] == serial


def test_challenge_response_round_trip_over_http(core: Core, http: StubTreq) -> None:
    core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234", serial="CR1")
    core.settings(challenge_response=frozenset({"hotp"}))
    status, body = post(http, "/validate/check", {"user": "alice", "pass": "1234"})
    assert status == 200
    assert body["result"] == {"status": True, "value": False, "authentication": "CHALLENGE"}
    detail = body["detail"]
    tid = detail["transaction_id"]
    assert len(tid) == 20 and detail["transaction_ids"] == [tid]
    assert detail["multi_challenge"] == [{"serial": "CR1", "transaction_id": tid, "message": "please enter otp: ",
                                          "type": "hotp", "client_mode": "interactive"}]
    status, body = post(http, "/validate/check", {"user": "alice", "pass": RFC4226[0], "transaction_id": tid})
    assert body["result"]["authentication"] == "ACCEPT"
    assert body["detail"]["message"] == "Found matching challenge"
    status, body = post(http, "/validate/check", {"user": "alice", "pass": RFC4226[1], "state": tid})
    assert body["result"]["authentication"] == "REJECT"
    tid2 = post(http, "/validate/check", {"user": "alice", "pass": "1234"})[1]["detail"]["transaction_id"]
    core.clock.advance(121)
    status, body = post(http, "/validate/check", {"user": "alice", "pass": RFC4226[1], "transaction_id": tid2})
    assert body["result"]["authentication"] == "REJECT"
