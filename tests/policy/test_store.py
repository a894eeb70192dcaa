"""The policy store on SQLite and PostgreSQL: validated writes, privacyIDEA's listing,
export and import, and how a second process picks up changes through the stamp."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, update

from tesserad.core.clock import FixedClock
from tesserad.core.policy import PolicyError, PolicyNotFound, PolicyQuery, PolicyStore
from tesserad.core.stamps import version
from tesserad.core.store import Database
from tesserad.core.store.models import Policy, PolicyCondition

HELPDESK: dict[str, Any] = {
    "scope": "admin", "action": "enable, disable", "realm": "sales", "adminrealm": "helpdesk",
    "client": "10.0.0.0/8", "priority": 2, "description": "helpdesk may switch sales tokens",
    "conditions": [["userinfo", "groups", "contains", "cn=helpdesk", True]]}


def write(db: Database, store: PolicyStore, name: str, **fields: Any) -> int:
    with db.session() as s:
        policy_id = store.set_policy(s, name, **fields)
        s.commit()
        return policy_id


def listing(db: Database, store: PolicyStore, **filters: Any) -> list[dict[str, Any]]:
    with db.session() as s:
        return store.get_policies(s, **filters)


def test_set_policy_and_get_policies_shape(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    policy_id = write(db, store, "helpdesk", **HELPDESK)
    assert policy_id > 0
    assert listing(db, store) == [{
        "name": "helpdesk", "scope": "admin", "action": {"enable": True, "disable": True},
        "realm": ["sales"], "resolver": [], "user": [], "adminrealm": ["helpdesk"], "adminuser": [],
        "client": ["10.0.0.0/8"], "pinode": [], "time": "", "priority": 2, "active": True,
        "check_all_resolvers": False, "description": "helpdesk may switch sales tokens",
        "conditions": [["userinfo", "groups", "contains", "cn=helpdesk", True]]}]


def test_update_changes_only_the_given_attributes(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    first = write(db, store, "helpdesk", **HELPDESK)
    assert write(db, store, "helpdesk", action="enable", conditions=[], priority=None) == first
    [policy] = listing(db, store)
    assert policy["action"] == {"enable": True}
    assert (policy["realm"], policy["priority"], policy["conditions"]) == (["sales"], 2, [])
    with db.session() as s:
        assert s.scalars(select(PolicyCondition)).all() == []  # replaced conditions are deleted


def test_invalid_write_changes_nothing(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    write(db, store, "helpdesk", **HELPDESK)
    with db.session() as s:
        with pytest.raises(PolicyError, match="client: '10.0.0.0/33' is not an IP address or network"):
            store.set_policy(s, "helpdesk", client="10.0.0.0/33")
        with pytest.raises(PolicyError, match="scope: None is not a scope"):
            store.set_policy(s, "new")  # a new policy needs a scope
    assert listing(db, store)[0]["client"] == ["10.0.0.0/8"]


def test_delete_and_enable(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    policy_id = write(db, store, "helpdesk", **HELPDESK)
    with db.session() as s:
        assert store.enable_policy(s, "helpdesk", False) == policy_id
        s.commit()
    assert listing(db, store, active=False)[0]["name"] == "helpdesk"
    assert listing(db, store, active=True) == []
    with db.session() as s:
        assert store.delete_policy(s, "helpdesk") == policy_id
        s.commit()
    assert listing(db, store) == []
    with db.session() as s:
        with pytest.raises(PolicyNotFound, match="name: no policy is named 'helpdesk'"):
            store.delete_policy(s, "helpdesk")
        with pytest.raises(PolicyNotFound):
            store.enable_policy(s, "helpdesk")
        assert s.scalars(select(PolicyCondition)).all() == []


def test_get_policies_filters_like_list_policies(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    write(db, store, "helpdesk", **HELPDESK)
    write(db, store, "everywhere", scope="admin", action="tokenlist", priority=1)
    write(db, store, "auth", scope="authentication", action="otppin=userstore", realm="hr")
    assert [p["name"] for p in listing(db, store)] == ["auth", "everywhere", "helpdesk"]  # by priority, name
    assert [p["name"] for p in listing(db, store, scope="admin")] == ["everywhere", "helpdesk"]
    assert [p["name"] for p in listing(db, store, realm="sales")] == ["everywhere", "helpdesk"]
    assert [p["name"] for p in listing(db, store, realm="hr")] == ["auth", "everywhere"]
    assert [p["name"] for p in listing(db, store, action="disable")] == ["helpdesk"]
    assert [p["name"] for p in listing(db, store, client="192.168.1.1")] == ["auth", "everywhere"]
    assert [p["name"] for p in listing(db, store, name="auth")] == ["auth"]
    with pytest.raises(PolicyError, match="client: 'x' is not an IP address"):
        listing(db, store, client="x")


def test_writes_bump_the_stamp(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    with db.session() as s:
        before = version(s, "policy")
    write(db, store, "helpdesk", **HELPDESK)
    with db.session() as s:
        store.enable_policy(s, "helpdesk", False)
        store.delete_policy(s, "helpdesk")
        s.commit()
    with db.session() as s:
        assert version(s, "policy") == before + 3


def test_this_process_sees_its_change_at_once(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    query = PolicyQuery(scope="authentication", action="otppin")
    with db.session() as s:
        assert store.snapshot(s).get_value(query, "tokenpin") == ("tokenpin", [])
    write(db, store, "pin", scope="authentication", action="otppin=userstore")
    with db.session() as s:
        assert store.snapshot(s).get_value(query, "tokenpin") == ("userstore", ["pin"])


def test_another_process_sees_the_change_after_the_interval(db: Database, clock: FixedClock) -> None:
    writer, reader = PolicyStore(clock), PolicyStore(clock, interval=5.0)
    query = PolicyQuery(scope="authentication", action="otppin")
    with db.session() as s:
        assert reader.snapshot(s).get_value(query, "tokenpin")[0] == "tokenpin"
    write(db, writer, "pin", scope="authentication", action="otppin=none")
    clock.advance(4.9)
    with db.session() as s:
        assert reader.snapshot(s).get_value(query, "tokenpin")[0] == "tokenpin"  # within the bound
    clock.advance(0.1)
    with db.session() as s:
        assert reader.snapshot(s).get_value(query, "tokenpin") == ("none", ["pin"])


def test_uncommitted_changes_stay_in_their_transaction(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    query = PolicyQuery(scope="authentication", action="otppin")
    with db.session() as writer, db.session() as other:
        store.set_policy(writer, "pin", scope="authentication", action="otppin=none")
        assert store.snapshot(writer).get_value(query, "tokenpin")[0] == "none"  # its own change
        assert store.snapshot(other).get_value(query, "tokenpin")[0] == "tokenpin"  # not shared yet
        writer.rollback()
    with db.session() as s:
        assert store.snapshot(s).get_value(query, "tokenpin")[0] == "tokenpin"


def test_export_import_round_trip(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    write(db, store, "helpdesk", **HELPDESK)
    write(db, store, "texts", scope="authentication", time="Mon-Fri: 8-18", pinode="node1",
          action="challenge_text=\"Hello, <otp>\", challenge_response=hotp totp")
    original = listing(db, store)
    with db.session() as s:
        exported = store.export_policies(s)
    assert json.loads(exported)["tesserad-policies"] == 1
    with db.session() as s:
        assert store.import_policies(s, exported, cleanup=True).written == 2
        s.commit()
    assert listing(db, store) == original
    with db.session() as s:
        assert json.loads(store.export_policies(s, ["texts"]))["policies"][0]["name"] == "texts"


def test_import_privacyidea_export(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    text = """\
[pol1]
action = {'tokenlist': True, 'enrollHOTP': True}
active = True
adminrealm = ['super']
check_all_resolvers = False
client = ['172.16.0.0/16']
conditions = [('userinfo', 'email', 'matches', '.*@example.com', True)]
name = pol1
pinode = []
priority = 2
realm = ['r1']
resolver = []
scope = admin
time = Mon-Fri: 8-18
user = []

[legacy]
action = otppin=userstore, passOnNoToken
scope = authentication
"""
    with db.session() as s:
        assert store.import_policies(s, text).written == 2
        s.commit()
    pol1, legacy = listing(db, store, name="pol1")[0], listing(db, store, name="legacy")[0]
    assert pol1["action"] == {"tokenlist": True, "enrollHOTP": True}
    assert (pol1["adminrealm"], pol1["client"], pol1["time"], pol1["priority"]) == \
        (["super"], ["172.16.0.0/16"], "Mon-Fri: 8-18", 2)
    assert pol1["conditions"] == [["userinfo", "email", "matches", ".*@example.com", True]]
    assert legacy["action"] == {"otppin": "userstore", "passOnNoToken": True}


def test_import_is_checked_before_anything_is_written(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    write(db, store, "keep", scope="admin", action="enable")
    bad = json.dumps({"tesserad-policies": 1, "policies": [
        {"name": "fine", "scope": "admin", "action": {"enable": True}},
        {"name": "broken", "scope": "admin", "action": {"otppin": "none"}}]})
    with db.session() as s:
        with pytest.raises(PolicyError) as caught:
            store.import_policies(s, bad, cleanup=True)
        assert str(caught.value).startswith("policy 'broken': action: 'otppin' is not an action")
        assert (caught.value.policy, caught.value.field) == ("broken", "action")
    assert [p["name"] for p in listing(db, store)] == ["keep"]
    twice = json.dumps([{"name": "a", "scope": "admin"}, {"name": "a", "scope": "user"}])
    with db.session() as s:
        with pytest.raises(PolicyError, match="'a' appears twice"):
            store.import_policies(s, twice)
        with pytest.raises(PolicyError, match="not a tesserad policy export"):
            store.import_policies(s, json.dumps({"policies": []}))
        with pytest.raises(PolicyError, match="line 1: expected"):
            store.import_policies(s, "scope = admin\n")


def test_import_update_and_cleanup(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    write(db, store, "a", scope="admin", action="enable")
    write(db, store, "b", scope="admin", action="enable")
    incoming = json.dumps([{"name": "a", "scope": "admin", "action": "delete"},
                           {"name": "c", "scope": "admin", "action": "delete"}])
    with db.session() as s:
        assert store.import_policies(s, incoming, update=False).written == 1  # "a" is kept as it is
        s.commit()
    assert {p["name"]: p["action"] for p in listing(db, store)} == {
        "a": {"enable": True}, "b": {"enable": True}, "c": {"delete": True}}
    with db.session() as s:
        assert store.import_policies(s, incoming, cleanup=True).written == 2
        s.commit()
    assert {p["name"]: p["action"] for p in listing(db, store)} == {"a": {"delete": True}, "c": {"delete": True}}


def test_a_stored_policy_that_no_longer_validates(db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    write(db, store, "old", scope="admin", action="enable")
    write(db, store, "auth", scope="authentication", action="otppin=none")
    with db.session() as s:  # as if edited by hand or written by another version
        s.execute(update(Policy).where(Policy.name == "old").values(action="enable, enrollFOO"))
        s.commit()
    store = PolicyStore(clock)
    with db.session() as s:
        snapshot = store.snapshot(s)
        with pytest.raises(PolicyError, match="policy 'old' is invalid .*'enrollFOO' is not an action"):
            snapshot.allowed(PolicyQuery(scope="admin", action="enable"))
        assert snapshot.get_value(PolicyQuery(scope="authentication", action="otppin"), "tokenpin")[0] == "none"
        [old] = store.get_policies(s, scope="admin")
    assert old["action"] == {"enable": True, "enrollFOO": True}
    assert "enrollFOO" in old["error"]
