"""Failed logins are answered at the failure floor after the request's start, on a reactor
timer (an injected Clock here): an unknown user, a wrong password and a wrong OTP alike;
acceptances and challenges at once (security issue 27)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from treq.testing import StubTreq
from twisted.internet.task import Clock

from tesserad.admin_web.health import Health
from tesserad.admin_web.site import Root, build_site

from tests.helpers import run_inline
from tests.http.people import ADMIN_PASSWORD, PASSWORDS
from tests.http.restapi import Api
from tests.wired import RFC4226, RFC_SEED_HEX

FLOOR = 0.5


class Timed:
    def __init__(self, people: Api):
        people.configure(failure_floor_ms=int(FLOOR * 1000))
        self.clock = Clock()
        root = Root(Health(run_inline, lambda: None))
        root.attach(run_inline, people.ctx, people.rest.config, self.clock)
        self.http = StubTreq(build_site(root).resource)

    def post(self, path: str, params: dict[str, str], *, as_json: bool = False) -> list[Any]:
        """Send; answers a list that gets (status, body) once the answer is out."""
        answered: list[Any] = []
        data = json.dumps(params).encode() if as_json else urlencode(params).encode()
        content_type = "application/json" if as_json else "application/x-www-form-urlencoded"
        sent = self.http.post(f"http://localhost{path}", data=data, headers={"Content-Type": content_type})
        sent.addCallback(lambda response: response.content().addCallback(
            lambda raw: answered.append((response.code, json.loads(raw)))))
        self.http.flush()
        return answered

    def answered_at_floor(self, path: str, params: dict[str, str], **kwargs: Any) -> tuple[int, Any]:
        answered = self.post(path, params, **kwargs)
        assert answered == []
        self.clock.advance(FLOOR - 0.001)
        self.http.flush()
        assert answered == []
        self.clock.advance(0.001)
        self.http.flush()
        assert len(answered) == 1
        return answered[0]


@pytest.fixture
def timed(people: Api) -> Timed:
    people.core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234", serial="ALICE")
    return Timed(people)


@pytest.mark.parametrize("params", [
    {"username": "nobody", "password": "x", "realm": "sales"},     # unknown user
    {"username": "dave", "password": "wrong", "realm": "sales"},   # wrong password
    {"username": "root", "password": "wrong"},                      # local admin, wrong password
    {"username": "ghost", "password": "wrong"},                     # no such admin
])
def test_failed_logins_to_the_api_wait_for_the_floor(timed: Timed, params: dict[str, str]) -> None:
    status, _ = timed.answered_at_floor("/auth", params)
    assert status == 401
    status, _ = timed.answered_at_floor("/ui/login", params, as_json=True)
    assert status == 401


@pytest.mark.parametrize("params, message", [
    ({"user": "nobody", "pass": "1234" + RFC4226[0]}, None),                 # unknown user: an error
    ({"user": "alice", "pass": "9999" + RFC4226[0]}, "wrong otp pin"),       # wrong PIN
    ({"user": "alice", "pass": "1234000000"}, "wrong otp pin or otp value"),  # wrong OTP
])
def test_failed_validate_checks_wait_for_the_floor(timed: Timed, params: dict[str, str], message: str) -> None:
    status, body = timed.answered_at_floor("/validate/check", params)
    assert body["result"]["value" if message else "status"] is False
    if message:
        assert body["detail"]["message"] == message


def test_acceptances_are_answered_at_once(timed: Timed) -> None:
    assert timed.post("/auth", {"username": "root", "password": ADMIN_PASSWORD})[0][0] == 200
    assert timed.post("/auth", {"username": "dave", "password": PASSWORDS["dave"], "realm": "sales"})[0][0] == 200
    assert timed.post("/validate/check", {"user": "alice", "pass": "1234" + RFC4226[0]})[0][1]["result"]["value"]
