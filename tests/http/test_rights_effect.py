"""Every admin and user right shows its effect over HTTP: an admin (or user) whose policies
grant every right but this one is refused on each endpoint that declares it, with the
right named and nothing changed; granted the right, the same call goes through.

The calls are those of the authorization walk (``CALLS``, aimed at realm b, which the
unbound admin ``root`` reaches); a user acts on the own token A1 of realm a. SQLite only:
the rights are decided in Python over the policy snapshot, the REST API's SQL runs on both
databases in the other tests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tesserad.core.policy.actions import REGISTRY, USER

from tests.http.realm_pair import ADMIN_RIGHTS, send, state
from tests.http.restapi import Api
from tests.http.test_authorization_walk import CALLS
from tests.wired import RFC4226

# otp_pin_set_random is the length setrandompin needs besides its right.
RANDOM_PIN = "otp_pin_set_random=8"
USER_RIGHTS = ", ".join(name for name, action in REGISTRY[USER].items() if action.type == "bool")


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'tesserad.db'}"


def _without(rights: str, right: str) -> str:
    return ", ".join([r for r in rights.split(", ") if r != right] + [RANDOM_PIN])


def _declaring(api: Api, right: str, role: str) -> list[tuple[str, str]]:
    """(method, OpenAPI path) of every endpoint whose declared admin (or user) right is ``right``."""
    found = []
    for endpoint in api.rest.endpoints:
        if endpoint.access is None:
            continue
        declared = endpoint.access.admin if role == "admin" else endpoint.access.user
        if re.split(r"[ ,(]", declared, maxsplit=1)[0] == right:
            found.append((endpoint.method, re.sub(r"<([^>]+)>", r"{\1}", endpoint.path)))
    return sorted(found)


def _refused(status: int, text: str, right: str) -> None:
    assert status == 403, (status, text[:300])
    error = json.loads(text)["result"]["error"]
    assert error["code"] == 303 and right in error["message"], error


@pytest.mark.parametrize("right", [
    pytest.param("enable", marks=pytest.mark.policy_action("admin", "enable")),
    pytest.param("disable", marks=pytest.mark.policy_action("admin", "disable")),
    pytest.param("revoke", marks=pytest.mark.policy_action("admin", "revoke")),
    pytest.param("set", marks=pytest.mark.policy_action("admin", "set")),
    pytest.param("setpin", marks=pytest.mark.policy_action("admin", "setpin")),
    pytest.param("setrandompin", marks=pytest.mark.policy_action("admin", "setrandompin")),
    pytest.param("settokeninfo", marks=pytest.mark.policy_action("admin", "settokeninfo")),
    pytest.param("reset", marks=pytest.mark.policy_action("admin", "reset")),
    pytest.param("resync", marks=pytest.mark.policy_action("admin", "resync")),
    pytest.param("assign", marks=pytest.mark.policy_action("admin", "assign")),
    pytest.param("unassign", marks=pytest.mark.policy_action("admin", "unassign")),
    pytest.param("importtokens", marks=pytest.mark.policy_action("admin", "importtokens")),
    pytest.param("delete", marks=pytest.mark.policy_action("admin", "delete")),
    pytest.param("userlist", marks=pytest.mark.policy_action("admin", "userlist")),
    pytest.param("getchallenges", marks=pytest.mark.policy_action("admin", "getchallenges")),
    pytest.param("tokenrealms", marks=pytest.mark.policy_action("admin", "tokenrealms")),
    pytest.param("tokengroups", marks=pytest.mark.policy_action("admin", "tokengroups")),
    pytest.param("getserial", marks=pytest.mark.policy_action("admin", "getserial")),
    pytest.param("getrandom", marks=pytest.mark.policy_action("admin", "getrandom")),
    pytest.param("losttoken", marks=pytest.mark.policy_action("admin", "losttoken")),
    pytest.param("adduser", marks=pytest.mark.policy_action("admin", "adduser")),
    pytest.param("updateuser", marks=pytest.mark.policy_action("admin", "updateuser")),
    pytest.param("deleteuser", marks=pytest.mark.policy_action("admin", "deleteuser")),
    pytest.param("copytokenuser", marks=pytest.mark.policy_action("admin", "copytokenuser")),
    pytest.param("copytokenpin", marks=pytest.mark.policy_action("admin", "copytokenpin")),
    pytest.param("policywrite", marks=pytest.mark.policy_action("admin", "policywrite")),
    pytest.param("policyread", marks=pytest.mark.policy_action("admin", "policyread")),
    pytest.param("policydelete", marks=pytest.mark.policy_action("admin", "policydelete")),
    pytest.param("resolverwrite", marks=pytest.mark.policy_action("admin", "resolverwrite")),
    pytest.param("resolverread", marks=pytest.mark.policy_action("admin", "resolverread")),
    pytest.param("resolverdelete", marks=pytest.mark.policy_action("admin", "resolverdelete")),
    pytest.param("mresolverwrite", marks=pytest.mark.policy_action("admin", "mresolverwrite")),
    pytest.param("mresolverread", marks=pytest.mark.policy_action("admin", "mresolverread")),
    pytest.param("mresolverdelete", marks=pytest.mark.policy_action("admin", "mresolverdelete")),
    pytest.param("configwrite", marks=pytest.mark.policy_action("admin", "configwrite")),
    pytest.param("configread", marks=pytest.mark.policy_action("admin", "configread")),
    pytest.param("configdelete", marks=pytest.mark.policy_action("admin", "configdelete")),
    pytest.param("auditlog", marks=pytest.mark.policy_action("admin", "auditlog")),
    pytest.param("auditlog_download", marks=pytest.mark.policy_action("admin", "auditlog_download")),
    pytest.param("triggerchallenge", marks=pytest.mark.policy_action("admin", "triggerchallenge")),
    pytest.param("system_documentation", marks=pytest.mark.policy_action("admin", "system_documentation")),
    pytest.param("machinelist", marks=pytest.mark.policy_action("admin", "machinelist")),
    pytest.param("manage_machine_tokens", marks=pytest.mark.policy_action("admin", "manage_machine_tokens")),
    pytest.param("fetch_authentication_items", marks=pytest.mark.policy_action("admin", "fetch_authentication_items")),
])
def test_an_admin_right_is_needed_and_enough(pair: Api, right: str) -> None:
    root = pair.admin("root")
    endpoints = _declaring(pair, right, "admin")
    assert endpoints, f"no endpoint declares the admin right {right}"
    pair.policy("root", scope="admin", action=_without(ADMIN_RIGHTS, right), adminuser="root")
    before = state(pair)
    for method, declared in endpoints:
        path, params = CALLS[(method, declared)]
        _refused(*send(pair, method, path, root, params), right)
    assert state(pair) == before
    answers = []
    for method, declared in endpoints:
        # (again before each call: /policy/disable/root of the walk switches it off)
        pair.policy("root", scope="admin", action=f"{ADMIN_RIGHTS}, {RANDOM_PIN}", adminuser="root", active=True)
        path, params = CALLS[(method, declared)]
        status, text = send(pair, method, path, root, params)
        assert status != 403, (method, path, text[:300])
        answers.append(status if status == 200 else json.loads(text)["result"]["error"]["code"])
    assert 200 in answers or set(answers) == {GRANTED_BUT_REFUSED.get(right)}, answers


# Rights whose every call of the walk fails after the rights check, with this error code: the
# walk's user resolvers are passwd files (not editable), its machine resolver is in use.
GRANTED_BUT_REFUSED = {"adduser": 904, "updateuser": 904, "deleteuser": 904, "mresolverdelete": 905}


@pytest.mark.policy_action("admin", "tokenlist")
def test_an_admin_without_tokenlist_lists_no_tokens(pair: Api) -> None:
    """``tokenlist`` decides what the listing holds, not whether it answers."""
    root = pair.admin("root")
    pair.policy("root", scope="admin", action=_without(ADMIN_RIGHTS, "tokenlist"), adminuser="root")
    assert json.loads(send(pair, "GET", "/token/", root, {})[1])["result"]["value"]["count"] == 0
    pair.policy("root", scope="admin", action=ADMIN_RIGHTS, adminuser="root")
    assert json.loads(send(pair, "GET", "/token/", root, {})[1])["result"]["value"]["count"] == 3


# Enrollment parameters a token type needs besides its right.
ENROLL_PARAMS: dict[str, dict[str, str]] = {
    "hotp": {"genkey": "1"}, "totp": {"genkey": "1"}, "daypassword": {"genkey": "1"},
    "motp": {"genkey": "1", "motppin": "1234"},
    "yubikey": {"otpkey": "00112233445566778899aabbccddeeff", "otplen": "44"},
    "indexedsecret": {"otpkey": "abcdefgh"},
    "question": {"questions": json.dumps({f"Question {n}?": f"answer {n}" for n in range(5)})},
    "pw": {"otpkey": "Long-pw-1234"}, "spass": {}, "paper": {}, "tan": {}, "registration": {},
    "sms": {"phone": "+49 170 1234567"},
    "email": {"email": "someone@example.org"},
    "push": {"genkey": "1", "push_registration_url": "https://mfa.example.org/ttype/push"},
    "4eyes": {"4eyes": "example:1"},
}


@pytest.mark.parametrize("token_type", [
    pytest.param("hotp", marks=pytest.mark.policy_action("admin", "enrollHOTP")),
    pytest.param("totp", marks=pytest.mark.policy_action("admin", "enrollTOTP")),
    pytest.param("spass", marks=pytest.mark.policy_action("admin", "enrollSPASS")),
    pytest.param("yubikey", marks=pytest.mark.policy_action("admin", "enrollYUBIKEY")),
    pytest.param("paper", marks=pytest.mark.policy_action("admin", "enrollPAPER")),
    pytest.param("tan", marks=pytest.mark.policy_action("admin", "enrollTAN")),
    pytest.param("motp", marks=pytest.mark.policy_action("admin", "enrollMOTP")),
    pytest.param("question", marks=pytest.mark.policy_action("admin", "enrollQUESTION")),
    pytest.param("indexedsecret", marks=pytest.mark.policy_action("admin", "enrollINDEXEDSECRET")),
    pytest.param("daypassword", marks=pytest.mark.policy_action("admin", "enrollDAYPASSWORD")),
    pytest.param("pw", marks=pytest.mark.policy_action("admin", "enrollPW")),
    pytest.param("registration", marks=pytest.mark.policy_action("admin", "enrollREGISTRATION")),
    pytest.param("sms", marks=pytest.mark.policy_action("admin", "enrollSMS")),
    pytest.param("email", marks=pytest.mark.policy_action("admin", "enrollEMAIL")),
    pytest.param("push", marks=pytest.mark.policy_action("admin", "enrollPUSH")),
    pytest.param("4eyes", marks=pytest.mark.policy_action("admin", "enroll4EYES")),
])
def test_an_admin_enrolls_a_token_type_with_its_right(pair: Api, token_type: str) -> None:
    root, right = pair.admin("root"), f"enroll{token_type.upper()}"
    params = {"type": token_type, "user": "bert", "realm": "b", **ENROLL_PARAMS[token_type]}
    pair.policy("root", scope="admin", action=_without(ADMIN_RIGHTS, right), adminuser="root")
    before = state(pair)
    _refused(*send(pair, "POST", "/token/init", root, params), right)
    assert state(pair) == before
    pair.policy("root", scope="admin", action=ADMIN_RIGHTS, adminuser="root")
    status, text = send(pair, "POST", "/token/init", root, params)
    assert status == 200 and json.loads(text)["detail"]["serial"], text[:300]


# A user's calls on the own token A1 (realm a); AFREE is an unowned token of realm a.
USER_CALLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "assign": ("POST", "/token/assign", {"serial": "AFREE"}),
    "delete": ("DELETE", "/token/A1", {}),
    "setdescription": ("POST", "/token/description/A1", {"description": "mine"}),
    "disable": ("POST", "/token/disable/A1", {}),
    "enable": ("POST", "/token/enable/A1", {}),
    "reset": ("POST", "/token/reset/A1", {}),
    "resync": ("POST", "/token/resync/A1", {"otp1": RFC4226[3], "otp2": RFC4226[4]}),
    "revoke": ("POST", "/token/revoke/A1", {}),
    "setpin": ("POST", "/token/setpin/A1", {"otppin": "99"}),
    "setrandompin": ("POST", "/token/setrandompin/A1", {}),
    "unassign": ("POST", "/token/unassign/A1", {}),
    "userlist": ("GET", "/user/", {}),
    "auditlog": ("GET", "/audit/", {}),
}


@pytest.mark.parametrize("right", [
    pytest.param("assign", marks=pytest.mark.policy_action("user", "assign")),
    pytest.param("delete", marks=pytest.mark.policy_action("user", "delete")),
    pytest.param("setdescription", marks=pytest.mark.policy_action("user", "setdescription")),
    pytest.param("disable", marks=pytest.mark.policy_action("user", "disable")),
    pytest.param("enable", marks=pytest.mark.policy_action("user", "enable")),
    pytest.param("reset", marks=pytest.mark.policy_action("user", "reset")),
    pytest.param("resync", marks=pytest.mark.policy_action("user", "resync")),
    pytest.param("revoke", marks=pytest.mark.policy_action("user", "revoke")),
    pytest.param("setpin", marks=pytest.mark.policy_action("user", "setpin")),
    pytest.param("setrandompin", marks=pytest.mark.policy_action("user", "setrandompin")),
    pytest.param("unassign", marks=pytest.mark.policy_action("user", "unassign")),
    pytest.param("userlist", marks=pytest.mark.policy_action("user", "userlist")),
    pytest.param("auditlog", marks=pytest.mark.policy_action("user", "auditlog")),
])
def test_a_user_right_is_needed_and_enough(pair: Api, right: str) -> None:
    assert _declaring(pair, right, "user"), f"no endpoint declares the user right {right}"
    status, text = send(pair, "POST", "/token/init", pair.admin("root"),
                        {"type": "hotp", "genkey": "1", "serial": "AFREE", "tokenrealm": "a"})
    assert status == 200, text
    anna = pair.user("anna", "a")
    method, path, params = USER_CALLS[right]
    pair.policy("users", scope="user", action=_without(USER_RIGHTS, right))
    before = state(pair)
    _refused(*send(pair, method, path, anna, params), right)
    assert state(pair) == before
    pair.policy("users", scope="user", action=f"{USER_RIGHTS}, {RANDOM_PIN}")
    status, text = send(pair, method, path, anna, params)
    assert status == 200, (method, path, text[:300])


@pytest.mark.parametrize("token_type", [
    pytest.param("hotp", marks=pytest.mark.policy_action("user", "enrollHOTP")),
    pytest.param("totp", marks=pytest.mark.policy_action("user", "enrollTOTP")),
    pytest.param("spass", marks=pytest.mark.policy_action("user", "enrollSPASS")),
    pytest.param("yubikey", marks=pytest.mark.policy_action("user", "enrollYUBIKEY")),
    pytest.param("paper", marks=pytest.mark.policy_action("user", "enrollPAPER")),
    pytest.param("tan", marks=pytest.mark.policy_action("user", "enrollTAN")),
    pytest.param("motp", marks=pytest.mark.policy_action("user", "enrollMOTP")),
    pytest.param("question", marks=pytest.mark.policy_action("user", "enrollQUESTION")),
    pytest.param("indexedsecret", marks=pytest.mark.policy_action("user", "enrollINDEXEDSECRET")),
    pytest.param("daypassword", marks=pytest.mark.policy_action("user", "enrollDAYPASSWORD")),
    pytest.param("sms", marks=pytest.mark.policy_action("user", "enrollSMS")),
    pytest.param("email", marks=pytest.mark.policy_action("user", "enrollEMAIL")),
    pytest.param("push", marks=pytest.mark.policy_action("user", "enrollPUSH")),
])
def test_a_user_enrolls_a_token_type_with_its_right(pair: Api, token_type: str) -> None:
    anna, right = pair.user("anna", "a"), f"enroll{token_type.upper()}"
    params = {"type": token_type, **ENROLL_PARAMS[token_type]}
    pair.policy("users", scope="user", action=_without(USER_RIGHTS, right))
    before = state(pair)
    _refused(*send(pair, "POST", "/token/init", anna, params), right)
    assert state(pair) == before
    pair.policy("users", scope="user", action=USER_RIGHTS)
    status, text = send(pair, "POST", "/token/init", anna, params)
    assert status == 200 and json.loads(text)["detail"]["serial"], text[:300]
