"""The whole REST API walked as ``admA`` (every admin right, bound to realm ``a``) and as
a user of realm ``a``, each call aimed into realm ``b``: nothing of realm b is in any
answer and nothing at all changes. The walk covers every route of the OpenAPI document
(a new route fails it until it is listed here), and docs/authorization.md must be the
table the endpoint declarations make."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tesserad.admin_web.authorization import table
from tesserad.admin_web.openapi import document

from tests.http.realm_pair import b_leaks, send, state
from tests.http.restapi import Api
from tests.wired import RFC4226, RFC_SEED_HEX

DOCS = Path(__file__).parents[2] / "docs" / "authorization.md"
B_USER = {"user": "bert", "realm": "b"}

# (method, OpenAPI path) -> (path called, parameters): each aimed at realm b.
CALLS: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("GET", "/application/"): ("/application/", {}),
    ("GET", "/audit/"): ("/audit/", {"realm": "b"}),
    ("GET", "/audit/{csvfile}"): ("/audit/all.csv", {"user": "bert"}),
    ("POST", "/auth"): ("/auth", {"username": "bert@b", "password": "wrong"}),
    ("GET", "/auth/rights"): ("/auth/rights", {}),
    ("DELETE", "/defaultrealm"): ("/defaultrealm", {}),
    ("GET", "/defaultrealm"): ("/defaultrealm", {}),
    ("POST", "/defaultrealm/{realm}"): ("/defaultrealm/b", {}),
    ("GET", "/info"): ("/info", {}),
    ("GET", "/machine/"): ("/machine/", {"hostname": "hostb"}),
    ("GET", "/machine/authitem"): ("/machine/authitem", {"hostname": "hostb"}),
    ("GET", "/machine/authitem/{application}"): ("/machine/authitem/offline", {"hostname": "hostb"}),
    ("POST", "/machine/token"): ("/machine/token", {"serial": "BTOK2", "application": "offline",
                                                    "hostname": "hostb"}),
    ("GET", "/machine/token"): ("/machine/token", {"hostname": "hostb"}),
    ("DELETE", "/machine/token/{serial}/{machineid}/{resolver}/{application}"):
        ("/machine/token/BTOK1/None/None/offline", {}),
    ("POST", "/machine/tokenoption"): ("/machine/tokenoption", {"serial": "BTOK1", "application": "offline",
                                                                "hostname": "hostb", "count": "5"}),
    ("GET", "/machineresolver/"): ("/machineresolver/", {}),
    ("POST", "/machineresolver/test"): ("/machineresolver/test", {"type": "hosts", "filename": "/etc/hosts"}),
    ("DELETE", "/machineresolver/{resolver}"): ("/machineresolver/hosts", {}),
    ("GET", "/machineresolver/{resolver}"): ("/machineresolver/hosts", {}),
    ("POST", "/machineresolver/{resolver}"): ("/machineresolver/hosts", {"type": "hosts", "filename": "/etc/hosts"}),
    ("GET", "/openapi.json"): ("/openapi.json", {}),
    ("GET", "/policy/"): ("/policy/", {"realm": "b"}),
    ("GET", "/policy/check"): ("/policy/check", {"scope": "admin", "action": "enable", "realm": "b"}),
    ("GET", "/policy/defs"): ("/policy/defs", {}),
    ("GET", "/policy/defs/{scope}"): ("/policy/defs/admin", {}),
    ("POST", "/policy/disable/{name}"): ("/policy/disable/root", {}),
    ("POST", "/policy/enable/{name}"): ("/policy/enable/users", {}),
    ("GET", "/policy/export/{export}"): ("/policy/export/all.json", {}),
    ("POST", "/policy/import/{name}"): ("/policy/import/mine.json", {"file": '{"mine": {"scope": "admin", '
                                                                             '"action": "enable", "realm": "b"}}'}),
    ("DELETE", "/policy/{name}"): ("/policy/root", {}),
    ("GET", "/policy/{name}"): ("/policy/root", {}),
    ("POST", "/policy/{name}"): ("/policy/mine", {"scope": "admin", "action": "enable", "realm": "b",
                                                  "adminuser": "admA"}),
    ("GET", "/realm/"): ("/realm/", {}),
    ("GET", "/realm/superuser"): ("/realm/superuser", {}),
    ("DELETE", "/realm/{realm}"): ("/realm/b", {}),
    ("POST", "/realm/{realm}"): ("/realm/a", {"resolvers": "resa,resb"}),
    ("GET", "/resolver/"): ("/resolver/", {}),
    ("POST", "/resolver/test"): ("/resolver/test", {"type": "passwdresolver", "resolver": "resb",
                                                    "fileName": "/etc/passwd"}),
    ("DELETE", "/resolver/{resolver}"): ("/resolver/resb", {}),
    ("GET", "/resolver/{resolver}"): ("/resolver/resb", {}),
    ("POST", "/resolver/{resolver}"): ("/resolver/resb", {"fileName": "/etc/passwd"}),
    ("GET", "/system/"): ("/system/", {}),
    ("GET", "/system/documentation"): ("/system/documentation", {}),
    ("GET", "/system/random"): ("/system/random", {}),
    ("POST", "/system/setConfig"): ("/system/setConfig", {"splitAtSign": "0"}),
    ("POST", "/system/setDefault"): ("/system/setDefault", {"DefaultOtpLen": "8"}),
    ("DELETE", "/system/{key}"): ("/system/splitAtSign", {}),
    ("GET", "/system/{key}"): ("/system/splitAtSign", {}),
    ("GET", "/token/"): ("/token/", B_USER),
    ("POST", "/token/assign"): ("/token/assign", {"serial": "BTOK2", "user": "anna", "realm": "a"}),
    ("GET", "/token/challenges/"): ("/token/challenges/", {}),
    ("GET", "/token/challenges/{serial}"): ("/token/challenges/BTOK1", {}),
    ("POST", "/token/copypin"): ("/token/copypin", {"from": "BTOK1", "to": "A1"}),
    ("POST", "/token/copyuser"): ("/token/copyuser", {"from": "BTOK1", "to": "A1"}),
    ("POST", "/token/description"): ("/token/description", {"serial": "BTOK1", "description": "x"}),
    ("POST", "/token/description/{serial}"): ("/token/description/BTOK2", {"description": "x"}),
    ("POST", "/token/disable"): ("/token/disable", B_USER),
    ("POST", "/token/disable/{serial}"): ("/token/disable/BTOK1", {}),
    ("POST", "/token/enable"): ("/token/enable", {"serial": "BTOK2"}),
    ("POST", "/token/enable/{serial}"): ("/token/enable/BTOK1", {}),
    ("GET", "/token/getserial/{otp}"): (f"/token/getserial/{RFC4226[5]}", {"serial": "BTOK"}),
    ("POST", "/token/group/{serial}"): ("/token/group/BTOK1", {"groups": "vpn"}),
    ("DELETE", "/token/group/{serial}/{groupname}"): ("/token/group/BTOK1/vpn", {}),
    ("POST", "/token/group/{serial}/{groupname}"): ("/token/group/BTOK2/vpn", {}),
    ("GET", "/radiusserver/"): ("/radiusserver/", {}),
    ("POST", "/radiusserver/{identifier}"): ("/radiusserver/r1", {"server": "127.0.0.1", "secret": "s"}),
    ("DELETE", "/radiusserver/{identifier}"): ("/radiusserver/r1", {}),
    ("POST", "/radiusserver/test_request"): ("/radiusserver/test_request", {"identifier": "r1", "username": "u"}),
    ("GET", "/smsgateway/"): ("/smsgateway/", {}),
    ("GET", "/smsgateway/{gwid}"): ("/smsgateway/providers", {}),
    ("POST", "/smsgateway"): ("/smsgateway", {"name": "g1", "module": "x"}),
    ("POST", "/smsgateway/"): ("/smsgateway/", {"name": "g1", "module": "x"}),
    ("DELETE", "/smsgateway/{identifier}"): ("/smsgateway/g1", {}),
    ("DELETE", "/smsgateway/option/{gwid}/{key}"): ("/smsgateway/option/1/URL", {}),
    ("POST", "/smsgateway/send_test_sms"): ("/smsgateway/send_test_sms", {"identifier": "g1", "phone": "0123"}),
    ("GET", "/smtpserver/"): ("/smtpserver/", {}),
    ("POST", "/smtpserver/{identifier}"): ("/smtpserver/m1", {"server": "127.0.0.1", "sender": "a@example.org"}),
    ("DELETE", "/smtpserver/{identifier}"): ("/smtpserver/m1", {}),
    ("POST", "/smtpserver/send_test_email"): ("/smtpserver/send_test_email", {"identifier": "m1",
                                                                            "recipient": "b@example.org"}),
    ("GET", "/tokengroup/"): ("/tokengroup/", {}),
    ("GET", "/tokengroup/{groupname}"): ("/tokengroup/vpn", {}),
    ("POST", "/tokengroup/{groupname}"): ("/tokengroup/vpn", {"description": "changed"}),
    ("DELETE", "/tokengroup/{groupname}"): ("/tokengroup/vpn", {}),
    ("DELETE", "/token/info/{serial}/{key}"): ("/token/info/BTOK1/hashlib", {}),
    ("POST", "/token/info/{serial}/{key}"): ("/token/info/BTOK1/k", {"value": "v"}),
    ("POST", "/token/init"): ("/token/init", {"type": "hotp", "genkey": "1", "user": "anna", "realm": "a",
                                              "tokenrealm": "b"}),
    ("POST", "/token/load/{filename}"): ("/token/load/x.csv", {"type": "oathcsv", "tokenrealms": "b",
                                                              "file": f"BTOK9, {RFC_SEED_HEX}"}),
    ("POST", "/token/lost/{serial}"): ("/token/lost/BTOK1", {}),
    ("POST", "/token/realm/{serial}"): ("/token/realm/BTOK2", {"realms": "a"}),
    ("POST", "/token/reset"): ("/token/reset", B_USER),
    ("POST", "/token/reset/{serial}"): ("/token/reset/BTOK1", {}),
    ("POST", "/token/resync"): ("/token/resync", {"serial": "BTOK1", "otp1": RFC4226[3], "otp2": RFC4226[4]}),
    ("POST", "/token/resync/{serial}"): ("/token/resync/BTOK1", {"otp1": RFC4226[3], "otp2": RFC4226[4]}),
    ("POST", "/token/revoke"): ("/token/revoke", B_USER),
    ("POST", "/token/revoke/{serial}"): ("/token/revoke/BTOK2", {}),
    ("POST", "/token/set"): ("/token/set", {**B_USER, "description": "x"}),
    ("POST", "/token/set/{serial}"): ("/token/set/BTOK1", {"max_failcount": "1"}),
    ("POST", "/token/setpin"): ("/token/setpin", {"serial": "BTOK1", "otppin": "99"}),
    ("POST", "/token/setpin/{serial}"): ("/token/setpin/BTOK2", {"otppin": "99"}),
    ("POST", "/token/setrandompin"): ("/token/setrandompin", {"serial": "BTOK1"}),
    ("POST", "/token/setrandompin/{serial}"): ("/token/setrandompin/BTOK1", {}),
    ("POST", "/token/unassign"): ("/token/unassign", B_USER),
    ("POST", "/token/unassign/{serial}"): ("/token/unassign/BTOK1", {}),
    ("DELETE", "/token/{serial}"): ("/token/BTOK1", {}),
    ("POST", "/ttype/{ttype}"): ("/ttype/push", {"serial": "BTOK1"}),
    ("GET", "/ttype/{ttype}"): ("/ttype/push", {"serial": "BTOK1"}),
    ("POST", "/user"): ("/user", {"user": "eve", "resolver": "resb", "password": "Eve-pw-1"}),
    ("GET", "/user"): ("/user", {"username": "bert"}),
    ("PUT", "/user"): ("/user", {"user": "bert", "resolver": "resb", "email": "x@example.com"}),
    ("POST", "/user/"): ("/user/", {"user": "eve", "resolver": "resb", "password": "Eve-pw-1"}),
    ("GET", "/user/"): ("/user/", {"realm": "b"}),
    ("PUT", "/user/"): ("/user/", {"user": "bert", "resolver": "resb", "email": "x@example.com"}),
    ("GET", "/user/attribute"): ("/user/attribute", B_USER),
    ("POST", "/user/attribute"): ("/user/attribute", {**B_USER, "key": "department", "value": "sales"}),
    ("DELETE", "/user/attribute/{attrkey}/{username}/{realm}"): ("/user/attribute/department/bert/b", {}),
    ("GET", "/user/editable_attributes/"): ("/user/editable_attributes/", B_USER),
    ("DELETE", "/user/{resolvername}/{username}"): ("/user/resb/bert", {}),
    ("POST", "/validate/offlinerefill"): ("/validate/offlinerefill", {"serial": "BTOK1", "refilltoken": "x",
                                                                      "pass": "1"}),
    ("POST", "/validate/triggerchallenge"): ("/validate/triggerchallenge", B_USER),
    ("GET", "/validate/triggerchallenge"): ("/validate/triggerchallenge", {"serial": "BTOK1"}),
}


def routes(api: Api) -> dict[tuple[str, str], list[str]]:
    """(method, path) of the OpenAPI document -> the roles that may call it."""
    status, body = api.call("GET", "/openapi.json")
    assert status == 200
    return {(method.upper(), path): operation.get("x-roles", []) for path, operations in body["paths"].items()
            for method, operation in operations.items()}


def test_the_endpoint_table_is_generated_from_the_declarations(api: Api) -> None:
    undeclared = [f"{e.method} {e.path}" for e in api.rest.endpoints if e.roles and e.access is None]
    assert undeclared == [], "declare access= on these endpoints"
    expected = table(api.rest.endpoints)
    assert DOCS.read_text() == expected, "run: python -m tesserad.admin_web.authorization > docs/authorization.md"
    assert len(document(api.rest.endpoints)["paths"]) > 50


def test_the_walk_covers_every_route(pair: Api) -> None:
    assert set(routes(pair)) == set(CALLS)


def _walk(api: Api, token: str, expected_refusals: set[int]) -> list[str]:
    problems = []
    for (method, declared), (path, params) in sorted(CALLS.items()):
        status, text = send(api, method, path, token, params)
        if status == 200 and b_leaks(text):
            problems.append(f"{method} {declared}: 200 with {b_leaks(text)}")
        elif status != 200 and status not in expected_refusals:
            problems.append(f"{method} {declared}: {status} {text[:200]}")
    return problems


def test_an_admin_of_realm_a_reads_and_changes_nothing_of_realm_b(pair: Api) -> None:
    before = state(pair)
    assert _walk(pair, pair.admin("admA"), {400, 401, 403, 404}) == []
    assert state(pair) == before


def test_a_user_of_realm_a_reads_and_changes_nothing_of_realm_b(pair: Api) -> None:
    """A user's calls by user act on the user's own tokens (A1), whatever they name."""
    before = state(pair, but=("A1",))
    assert _walk(pair, pair.user("anna", "a"), {400, 401, 403, 404}) == []
    assert state(pair, but=("A1",)) == before


def test_the_unbound_admin_reaches_realm_b(pair: Api) -> None:
    """The walk's calls are not refused for other reasons: an admin bound to no realm gets them."""
    root = pair.admin("root")
    for key in [("GET", "/token/"), ("GET", "/resolver/{resolver}"), ("GET", "/user/"), ("GET", "/machine/token")]:
        path, params = CALLS[key]
        status, text = send(pair, key[0], path, root, params)
        assert status == 200 and b_leaks(text), (key, text[:300])
    assert re.search(r'"value":\s*1', send(pair, "POST", "/token/disable/BTOK1", root, {})[1])
