"""Issue 27: an admin limited to realm ``a`` stays in it, and a user gets only the rights
that user policies give. One test per finding (see ``realm_pair`` for the set-up)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.http.realm_pair import b_leaks, dumps, refused, send, state, value
from tests.http.restapi import Api

ADMIN_MAP = json.dumps({"userid": "id", "username": "username", "password": "password_hash"})


def test_a_realm_admin_cannot_pull_another_realms_resolver_into_its_realm(pair: Api) -> None:
    adm_a, root = pair.admin("admA"), pair.admin("root")
    before = state(pair)
    assert "resolverwrite" in refused(pair.call("POST", "/realm/a", adm_a, {"resolvers": "resa,resb"}))
    assert state(pair) == before
    assert [u["username"] for u in value(pair.call("GET", "/user/", adm_a, {"realm": "a"}))] == ["anna"]
    # Its own realm's resolvers it may still arrange; a resolver it holds everywhere it may add.
    assert value(pair.call("POST", "/realm/a", adm_a, {"resolvers": "resa", "priority.resa": "2"})) == {
        "added": ["resa"], "failed": []}
    # An admin bound to no realm may join the realms.
    assert value(pair.call("POST", "/realm/a", root, {"resolvers": "resa,resb"}))["added"] == ["resa", "resb"]


def test_resolver_test_and_save_never_read_the_daemons_database(pair: Api, db_url: str, tmp_path: Path) -> None:
    adm_a, root = pair.admin("admA"), pair.admin("root")
    own = {"type": "sqlresolver", "URL": db_url, "Table": "admin", "Map": ADMIN_MAP,
           "Where": "password_hash like '$argon2%'"}
    # Arbitrary settings need an admin bound to no realm ...
    assert "resolverwrite" in refused(pair.call("POST", "/resolver/test", adm_a, own))
    # ... and even that one cannot point a resolver at the daemon's database, however named.
    variants = [own, {**own, "resolver": "resa"}]
    if db_url.startswith("sqlite"):
        path = db_url.removeprefix("sqlite:///")
        link = tmp_path / "alias.db"
        os.symlink(path, link)
        variants += [{**own, "URL": f"sqlite:///{link}"},
                     {"type": "sqlresolver", "Driver": "sqlite", "Database": os.path.relpath(path),
                      "Table": "admin", "Map": ADMIN_MAP}]
    for settings in variants:
        for caller in (root, adm_a) if "resolver" in settings else (root,):
            status, body = pair.call("POST", "/resolver/test", caller, settings)
            assert (status, body["result"]["value"]) == (200, False), body
            assert "own database" in body["detail"]["description"] and "Users found" not in dumps(body)
    error = refused(pair.call("POST", "/resolver/stolen", root, {k: v for k, v in own.items() if k != "Where"}), 904)
    assert "own database" in error
    assert "stolen" not in value(pair.call("GET", "/resolver/", root))


def test_resolver_test_says_only_whether_it_works(pair: Api, tmp_path: Path) -> None:
    status, body = pair.call("POST", "/resolver/test", pair.admin("admA"),
                             {"type": "passwdresolver", "resolver": "resa", "fileName": str(tmp_path / "apasswd")})
    assert (status, body["result"]["value"], body["detail"]) == (200, True, {
        "description": "Resolver config seems OK."})


def test_a_user_cannot_run_the_lost_token_process(pair: Api) -> None:
    anna = pair.user("anna", "a")
    before = state(pair)
    assert "losttoken" in refused(pair.call("POST", "/token/lost/A1", anna))
    assert state(pair) == before
    # what the user policy grants still works
    assert value(pair.call("POST", "/token/disable/A1", anna)) == 1


def test_token_init_needs_the_right_in_every_realm_it_puts_the_token_in(pair: Api) -> None:
    adm_a = pair.admin("admA")
    before = state(pair)
    for params in ({"user": "anna", "realm": "a", "tokenrealm": "b"}, {"tokenrealm": "a,b"}, {}):
        refused(pair.call("POST", "/token/init", adm_a, {"type": "hotp", "genkey": "1", **params}))
    assert state(pair) == before
    assert value(pair.call("POST", "/token/init", adm_a, {"type": "hotp", "genkey": "1", "serial": "A2",
                                                          "tokenrealm": "a"})) is True


def test_a_token_shared_with_another_realm_is_out_of_reach(pair: Api) -> None:
    """A token in realms a and b, once a user of b holds it, is no longer realm a's."""
    adm_a, root = pair.admin("admA"), pair.admin("root")
    value(pair.call("POST", "/token/init", root, {"type": "spass", "serial": "S1", "tokenrealm": "a,b"}))
    refused(pair.call("POST", "/token/setpin/S1", adm_a, {"otppin": "1234"}))
    value(pair.call("POST", "/token/assign", root, {"serial": "S1", "user": "bert", "realm": "b"}))
    before = state(pair)
    refused(pair.call("POST", "/token/setpin/S1", adm_a, {"otppin": "1234"}))
    refused(pair.call("POST", "/token/realm/S1", adm_a, {"realms": "a"}))
    assert state(pair) == before


def test_machine_attachments_of_other_realms_are_not_listed(pair: Api) -> None:
    listed = value(pair.call("GET", "/machine/token", pair.admin("admA")))
    assert [a["serial"] for a in listed] == ["A1"]
    status, text = send(pair, "GET", "/machine/authitem", pair.admin("admA"), {"hostname": "hostb"})
    assert status == 200 and not b_leaks(text)
    assert {a["serial"] for a in value(pair.call("GET", "/machine/token", pair.admin("root")))} == {"A1", "BTOK1"}


@pytest.mark.parametrize("path", ["/system/setConfig", "/policy/grab"])
def test_objects_in_no_realm_need_an_admin_bound_to_no_realm(pair: Api, path: str) -> None:
    params = {"splitAtSign": "0"} if path.startswith("/system") else {
        "scope": "admin", "action": "enable", "adminuser": "admA"}
    before = state(pair)
    refused(pair.call("POST", path, pair.admin("admA"), params))
    assert state(pair) == before
    value(pair.call("POST", path, pair.admin("root"), params))
