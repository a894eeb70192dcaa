"""The webui policy remote_user over POST /auth: the user a trusted reverse proxy names in
web.remote_user_header is logged in without a password, and only then."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tesserad.core.sessions import ADMIN, USER

from tests.http.restapi import Api

PEER = "127.0.0.1"  # the in-memory client's address
HEADER = {"X-Remote-User": "alice"}


def login(api: Api, headers: dict[str, str], **params: str) -> tuple[int, Any]:
    return api.call("POST", "/auth", params=params, headers=headers)


def logged_in(answer: tuple[int, Any]) -> tuple[str, str]:
    status, body = answer
    assert status == 200, body
    claims = api_claims(body["result"]["value"]["token"])
    return body["result"]["value"]["username"], claims["role"] + "/" + claims["authtype"]


def api_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def refused(answer: tuple[int, Any]) -> int:
    status, body = answer
    assert body["result"]["status"] is False, body
    return status


@pytest.mark.policy_action("webui", "remote_user")
def test_a_trusted_proxy_logs_its_user_in_when_the_policy_allows(api: Api) -> None:
    # Off by default: no proxy is trusted, and the policy says disable.
    api.policy("sso", scope="webui", action="remote_user=allowed")
    assert refused(login(api, HEADER)) == 401
    api.configure(remote_user_proxies=["10.0.0.0/8"])
    assert refused(login(api, HEADER)) == 401
    # An untrusted peer cannot borrow a trusted address through X-Forwarded-For.
    assert refused(login(api, {**HEADER, "X-Forwarded-For": "10.1.2.3"})) == 401
    api.configure(remote_user_proxies=["10.0.0.0/8", PEER])
    assert logged_in(login(api, HEADER)) == ("alice", f"{USER}/remote_user")
    assert logged_in(login(api, HEADER, username="alice")) == ("alice", f"{USER}/remote_user")
    # With a password (or another name) the credentials are checked as usual.
    assert refused(login(api, HEADER, username="alice", password="wrong")) == 401
    assert refused(login(api, HEADER, username="bob")) == 401
    # Another header name is configured: the old one means nothing.
    api.configure(remote_user_header="X-Authenticated-User")
    assert refused(login(api, HEADER)) == 401
    assert logged_in(login(api, {"X-Authenticated-User": "bob@example"})) == ("bob", f"{USER}/remote_user")
    api.configure(remote_user_header="X-Remote-User")
    # A local admin by its name; an unknown user is refused.
    api.admin("helpdesk")
    assert logged_in(login(api, {"X-Remote-User": "helpdesk"})) == ("helpdesk", f"{ADMIN}/remote_user")
    assert refused(login(api, {"X-Remote-User": "mallory"})) == 401
    # disable, and a policy bound to another realm or client, refuse it.
    api.policy("sso", scope="webui", action="remote_user=disable")
    assert refused(login(api, HEADER)) == 401
    api.policy("sso", scope="webui", action="remote_user=force", realm="elsewhere")
    assert refused(login(api, HEADER)) == 401
    api.policy("sso", scope="webui", action="remote_user=force", realm="example")
    assert logged_in(login(api, HEADER)) == ("alice", f"{USER}/remote_user")
    api.policy("sso", scope="webui", action="remote_user=force")
    assert logged_in(login(api, HEADER)) == ("alice", f"{USER}/remote_user")
    api.policy("sso", scope="webui", action="remote_user=allowed", client="192.0.2.0/24")
    assert refused(login(api, HEADER)) == 401
