"""Policies that would do nothing are refused: an action tesserad does not enforce, over
``POST /policy/<name>`` and ``POST /policy/import``, gets HTTP 400 in privacyIDEA's error
envelope naming the action, and nothing is stored. ``/policy/defs`` offers only enforced
actions."""

from __future__ import annotations

from typing import Any

import pytest

from tesserad.core.policy import CATALOGUE, REGISTRY

from tests.http.restapi import Api
from tests.http.test_config_api import admin, error, ok  # noqa: F401  (admin: a fixture)


@pytest.mark.parametrize("scope, action", [
    ("authentication", "u2f_challenge_text=x"), ("enrollment", "certificate_template=web"),
    ("authentication", "push_wait=20"), ("admin", "privacyideaserver_write"),
    ("admin", "enrollU2F"), ("enrollment", "u2f_max_token_per_user=2"),
])
def test_saving_an_action_not_enforced_is_refused_and_nothing_is_stored(api: Api, admin: str, scope: str,
                                                                       action: str) -> None:
    name = action.partition("=")[0]
    error(api.call("POST", "/policy/p1", admin, {"scope": scope, "action": f"{action}"}),
          400, 905, f"action: {name!r} is a privacyIDEA action of scope {scope!r} that tesserad does not support yet")
    assert ok(api.call("GET", "/policy/p1", admin)) == []


def test_every_unsupported_action_of_a_policy_is_named(api: Api, admin: str) -> None:
    fields = {"scope": "authentication", "action": "otppin=userstore, push_wait=20, u2f_facets=Hi"}
    status, body = api.call("POST", "/policy/p1", admin, fields)
    message = body["result"]["error"]["message"]
    assert status == 400 and "'push_wait'" in message and "'u2f_facets'" in message and "otppin" not in message
    assert body["result"]["error"]["code"] == 905
    assert ok(api.call("GET", "/policy/", admin)) == []


def test_unknown_and_unsupported_are_told_apart(api: Api, admin: str) -> None:
    error(api.call("POST", "/policy/p1", admin, {"scope": "admin", "action": "tokenlistt"}),
          400, 905, "'tokenlistt' is not an action of scope 'admin'; did you mean 'tokenlist'?")
    error(api.call("POST", "/policy/p1", admin, {"scope": "authentication", "action": f"passthru={'r' * 300}"}),
          400, 905, "expected userstore or a RADIUS server identifier")
    ok(api.call("POST", "/policy/p1", admin, {"scope": "authentication", "action": "passthru=userstore"}))
    ok(api.call("POST", "/policy/p1", admin, {"scope": "authentication", "action": "passthru=radius1"}))


def test_changing_a_policy_to_an_unsupported_action_keeps_it_as_it_was(api: Api, admin: str) -> None:
    ok(api.call("POST", "/policy/p1", admin, {"scope": "authentication", "action": "otppin=userstore"}))
    error(api.call("POST", "/policy/p1", admin, {"action": "otppin=none, push_wait=20"}),
          400, 905, "'push_wait'")
    assert ok(api.call("GET", "/policy/p1", admin))[0]["action"] == {"otppin": "userstore"}


def test_import_names_every_unsupported_action_of_every_policy_and_imports_nothing(api: Api, admin: str) -> None:
    export = ("[texts]\nscope = authentication\naction = {'otppin': 'userstore', 'u2f_challenge_text': 'x <otp>'}\n"
              "[helpdesk]\nscope = admin\n"
              "action = {'tokenlist': True, 'privacyideaserver_write': True, 'enrollU2F': True}\n"
              "[fine]\nscope = admin\naction = {'tokenlist': True}\n")
    status, body = api.call("POST", "/policy/import/pi.cfg", admin, {"file": export})
    message = body["result"]["error"]["message"]
    assert (status, body["result"]["error"]["code"]) == (400, 905)
    for policy, action in (("texts", "u2f_challenge_text"), ("helpdesk", "privacyideaserver_write"),
                           ("helpdesk", "enrollU2F")):
        assert f"policy {policy!r}: {action!r}" in message
    assert "not supported yet" in message and "'tokenlist'" not in message
    assert ok(api.call("GET", "/policy/", admin)) == []


def test_defs_offer_only_enforced_actions(api: Api, admin: str) -> None:
    defs: dict[str, Any] = ok(api.call("GET", "/policy/defs", admin))
    for scope, actions in CATALOGUE.items():
        assert set(defs[scope]) == set(REGISTRY[scope]) == {n for n, a in actions.items() if a.enforced_by}
    assert "push_wait" not in defs["authentication"] and "otppin" in defs["authentication"]
    assert "enrollHOTP" in defs["admin"] and "enrollU2F" not in defs["admin"]
    assert "hotp_max_token_per_user" in defs["enrollment"] and "u2f_max_token_per_user" not in defs["enrollment"]
    assert "push_wait" not in ok(api.call("GET", "/policy/defs/authentication", admin))
