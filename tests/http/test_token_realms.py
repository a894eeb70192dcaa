"""An admin whose policies are bound to realm ``example`` reaches nothing of realm ``sales``
(nor tokens in no realm) through any /token endpoint; the walk fails when an endpoint is
added without being listed here."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tesserad.core.store.models import Token, TokenGroup

from tests.http.restapi import Api
from tests.wired import RFC4226, RFC_SEED_HEX

RIGHTS = ("tokenlist, enable, disable, revoke, set, setpin, setrandompin, otp_pin_set_random=6, settokeninfo, "
          "enrollpin, reset, resync, assign, unassign, delete, getchallenges, tokenrealms, tokengroups, losttoken, "
          "copytokenuser, copytokenpin, enrollHOTP, enrollSPASS, importtokens, getserial")


def state(api: Api) -> list[tuple[Any, ...]]:
    """Everything stored about every token."""
    with api.core.database.session() as session:
        rows = session.scalars(select(Token).order_by(Token.serial).options(
            selectinload(Token.info), selectinload(Token.owners), selectinload(Token.realms),
            selectinload(Token.groups))).all()
        return [tuple(getattr(row, c.name) for c in Token.__table__.columns)
                + (sorted((i.key, i.value) for i in row.info), sorted((o.realm_id, o.user_id) for o in row.owners),
                   sorted(r.name for r in row.realms), sorted(g.name for g in row.groups)) for row in rows]


@pytest.fixture
def realms(people: Api) -> Api:
    root = people.admin("root")
    for params in ({"serial": "A1", "user": "alice", "pin": "1"}, {"serial": "B1", "user": "dave@sales", "pin": "1"},
                   {"serial": "B2", "tokenrealm": "sales"}, {"serial": "N1"}):
        status, body = people.call("POST", "/token/init", root, {"type": "hotp", "otpkey": RFC_SEED_HEX, **params})
        assert status == 200, body
    with people.core.database.session() as session:
        session.add(TokenGroup(name="vpn"))
        session.commit()
    people.core.settings(challenge_response=frozenset({"hotp"}))
    assert people.core.check("1", user="dave@sales").transaction_id
    people.policy("root", scope="admin", action=RIGHTS, adminuser="root")
    people.policy("helpdesk", scope="admin", action=RIGHTS, adminuser="helpdesk", realm="example")
    return people


def walk(serial: str, other: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, declared path, path, params) of every /token endpoint aimed at ``serial``
    (``other``: a token the admin may touch, for the two-token calls)."""
    return [
        ("GET", "/token/challenges/<serial>", f"/token/challenges/{serial}", {}),
        ("POST", "/token/init", "/token/init", {"type": "hotp", "serial": serial, "otpkey": RFC_SEED_HEX}),
        ("POST", "/token/assign", "/token/assign", {"serial": serial, "user": "bob"}),
        ("POST", "/token/unassign", "/token/unassign", {"serial": serial}),
        ("POST", "/token/unassign/<serial>", f"/token/unassign/{serial}", {}),
        ("POST", "/token/enable", "/token/enable", {"serial": serial}),
        ("POST", "/token/enable/<serial>", f"/token/enable/{serial}", {}),
        ("POST", "/token/disable", "/token/disable", {"serial": serial}),
        ("POST", "/token/disable/<serial>", f"/token/disable/{serial}", {}),
        ("POST", "/token/revoke", "/token/revoke", {"serial": serial}),
        ("POST", "/token/revoke/<serial>", f"/token/revoke/{serial}", {}),
        ("POST", "/token/reset", "/token/reset", {"serial": serial}),
        ("POST", "/token/reset/<serial>", f"/token/reset/{serial}", {}),
        ("DELETE", "/token/<serial>", f"/token/{serial}", {}),
        ("POST", "/token/resync", "/token/resync", {"serial": serial, "otp1": RFC4226[3], "otp2": RFC4226[4]}),
        ("POST", "/token/resync/<serial>", f"/token/resync/{serial}", {"otp1": RFC4226[3], "otp2": RFC4226[4]}),
        ("POST", "/token/lost/<serial>", f"/token/lost/{serial}", {}),
        ("POST", "/token/setpin", "/token/setpin", {"serial": serial, "otppin": "99"}),
        ("POST", "/token/setpin/<serial>", f"/token/setpin/{serial}", {"otppin": "99"}),
        ("POST", "/token/setrandompin", "/token/setrandompin", {"serial": serial}),
        ("POST", "/token/setrandompin/<serial>", f"/token/setrandompin/{serial}", {}),
        ("POST", "/token/copypin", "/token/copypin", {"from": other, "to": serial}),
        ("POST", "/token/copyuser", "/token/copyuser", {"from": serial, "to": other}),
        ("POST", "/token/set", "/token/set", {"serial": serial, "description": "x"}),
        ("POST", "/token/set/<serial>", f"/token/set/{serial}", {"max_failcount": "1"}),
        ("POST", "/token/description", "/token/description", {"serial": serial, "description": "x"}),
        ("POST", "/token/description/<serial>", f"/token/description/{serial}", {"description": "x"}),
        ("POST", "/token/realm/<serial>", f"/token/realm/{serial}", {"realms": "example"}),
        ("POST", "/token/info/<serial>/<key>", f"/token/info/{serial}/k", {"value": "v"}),
        ("DELETE", "/token/info/<serial>/<key>", f"/token/info/{serial}/hashlib", {}),
        ("POST", "/token/group/<serial>", f"/token/group/{serial}", {"groups": "vpn"}),
        ("POST", "/token/group/<serial>/<groupname>", f"/token/group/{serial}/vpn", {}),
        ("DELETE", "/token/group/<serial>/<groupname>", f"/token/group/{serial}/vpn", {}),
        ("POST", "/token/load/<filename>", "/token/load/x.csv",
         {"type": "oathcsv", "file": f"{serial}, {RFC_SEED_HEX}"}),
    ]


# Endpoints that take no serial, refused by other means (see test_calls_without_a_serial).
WITHOUT_SERIAL = {("GET", "/token/"), ("GET", "/token/challenges/"), ("GET", "/token/getserial/<otp>")}


def test_the_walk_covers_every_token_endpoint(realms: Api) -> None:
    declared = {(e.method, e.path) for e in realms.rest.endpoints if e.path.startswith("/token/")}  # not /tokengroup/
    walked = {(method, path) for method, path, _, _ in walk("X", "Y")}
    assert declared == walked | WITHOUT_SERIAL


@pytest.mark.parametrize("serial", ["B1", "B2", "N1"])
def test_an_admin_of_one_realm_cannot_touch_other_tokens(realms: Api, serial: str) -> None:
    helpdesk = realms.admin("helpdesk")
    before = state(realms)
    for method, declared, path, params in walk(serial, "A1"):
        status, body = realms.call(method, path, helpdesk, params)
        assert (status, body["result"]["error"]["code"]) == (403, 303), (declared, body)
    assert state(realms) == before


def test_an_admin_of_one_realm_cannot_reach_into_another_through_users_and_realms(realms: Api) -> None:
    helpdesk = realms.admin("helpdesk")
    before = state(realms)
    refused = [
        ("POST", "/token/init", {"type": "hotp", "genkey": 1, "user": "dave@sales"}),
        ("POST", "/token/init", {"type": "hotp", "genkey": 1, "tokenrealm": "sales"}),
        ("POST", "/token/init", {"type": "hotp", "genkey": 1}),  # a token in no realm
        ("POST", "/token/assign", {"serial": "A1", "user": "erin@sales"}),
        ("POST", "/token/realm/A1", {"realms": "example,sales"}),
        ("POST", "/token/copyuser", {"from": "A1", "to": "B2"}),
        ("POST", "/token/disable", {"user": "dave@sales"}),
        ("POST", "/token/set", {"user": "dave", "realm": "sales", "description": "x"}),
        ("POST", "/token/unassign", {"user": "dave@sales"}),
    ]
    for method, path, params in refused:
        status, body = realms.call(method, path, helpdesk, params)
        assert (status, body["result"]["error"]["code"]) == (403, 303), (path, params, body)
    assert state(realms) == before


def test_calls_without_a_serial_show_only_the_admins_realm(realms: Api) -> None:
    helpdesk, root = realms.admin("helpdesk"), realms.admin("root")
    page = realms.call("GET", "/token/", helpdesk, {"pagesize": 50})[1]["result"]["value"]
    assert [t["serial"] for t in page["tokens"]] == ["A1"] and page["count"] == 1
    assert realms.call("GET", "/token/", helpdesk, {"user": "dave@sales"})[1]["result"]["value"]["count"] == 0
    assert realms.call("GET", "/token/", helpdesk, {"tokenrealm": "sales"})[1]["result"]["value"]["count"] == 0
    assert realms.call("GET", "/token/challenges/", helpdesk)[1]["result"]["value"]["count"] == 0
    assert realms.call("GET", "/token/challenges/", root)[1]["result"]["value"]["count"] == 1
    assert realms.call("GET", "/token/", root)[1]["result"]["value"]["count"] == 4
    otp = RFC4226[0]  # every token has the same seed: only A1 is the helpdesk's
    assert realms.call("GET", f"/token/getserial/{otp}", helpdesk)[1]["result"]["value"]["serial"] == "A1"
    assert realms.call("GET", f"/token/getserial/{otp}", helpdesk, {"serial": "B"})[1]["result"]["value"] == {
        "serial": None, "count": 0}
    # importing into its own realm does not overwrite a token of another realm
    before = state(realms)
    status, body = realms.call("POST", "/token/load/x.csv", helpdesk,
                               {"type": "oathcsv", "tokenrealms": "example", "file": f"B1, {RFC_SEED_HEX}\nN1, 00"})
    assert (status, body["result"]["value"]) == (200, {"n_imported": 0, "n_not_imported": 2})
    assert state(realms) == before


def test_the_same_admin_works_in_its_own_realm(realms: Api) -> None:
    helpdesk = realms.admin("helpdesk")
    assert realms.call("POST", "/token/disable/A1", helpdesk)[1]["result"]["value"] == 1
    assert realms.call("POST", "/token/init", helpdesk, {"type": "spass", "user": "bob", "pin": "x"})[0] == 200
    assert realms.call("POST", "/token/realm/A1", helpdesk, {"realms": "example"})[0] == 200
    assert realms.call("GET", "/token/", helpdesk)[1]["result"]["value"]["count"] == 2


def test_an_admin_without_tokenlist_sees_no_tokens(realms: Api) -> None:
    realms.policy("auditor", scope="admin", action="auditlog", adminuser="auditor")
    assert realms.call("GET", "/token/", realms.admin("auditor"))[1]["result"]["value"]["count"] == 0
    status, body = realms.call("POST", "/token/disable/A1", realms.admin("auditor"))
    assert (status, body["result"]["error"]["message"]) == (
        403, "ERR303: Admin actions are defined, but the action disable is not allowed!")
