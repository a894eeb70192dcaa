"""``/policy/check`` and ``/policy/defs`` from the store and the registry (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tesserad.core.clock import FixedClock
from tesserad.core.policy import PolicyError, PolicyStore
from tesserad.core.policy.defs import policy_defs
from tesserad.core.store import Database


@pytest.fixture
def store(db: Database, clock: FixedClock) -> PolicyStore:
    store = PolicyStore(clock)
    with db.session() as s:
        store.set_policy(s, "sales-helpdesk", scope="admin", action="enable, disable", realm="sales",
                         client="10.0.0.0/8", conditions=[["userinfo", "group", "equals", "helpdesk", True]])
        store.set_policy(s, "everyone", scope="user", action="setpin")
        store.set_policy(s, "off", scope="admin", action="enable", realm="dev", active=False)
        s.commit()
    return store


def test_check_names_the_policies_that_allow(db: Database, store: PolicyStore) -> None:
    with db.session() as s:
        result = store.check(s, scope="admin", action="enable", user="alice", realm="sales", client="10.1.2.3")
        assert result["allowed"] is True
        assert [p["name"] for p in result["policy"]] == ["sales-helpdesk"]
        assert result["policy"][0]["action"] == {"enable": True, "disable": True}
        assert store.check(s, scope="admin", action="enable", user="alice", realm="sales",
                           client="192.168.1.1") == {"allowed": False, "info": "No policies found"}
        assert store.check(s, scope="admin", action="enable", realm="dev")["allowed"] is False  # inactive
        assert store.check(s, scope="user", action="setpin", user="bob", realm="dev")["allowed"] is True


@pytest.mark.parametrize("fields, message", [
    ({"scope": "galaxy", "action": "enable"}, "scope: unknown policy scope 'galaxy'"),
    ({"scope": "admin", "action": "fly"}, "action: 'fly' is not an action of scope 'admin'"),
    ({"scope": "admin", "action": "enable", "client": "nowhere"}, "client: 'nowhere' is not an IP address"),
])
def test_check_refuses_bad_questions(db: Database, store: PolicyStore, fields: dict[str, str], message: str) -> None:
    with db.session() as s, pytest.raises(PolicyError, match=message):
        store.check(s, **fields)


def test_defs_scopes_conditions_and_nodes() -> None:
    everything = policy_defs(None, ["node-a"])
    assert set(everything) == {"admin", "user", "authentication", "authorization", "enrollment", "webui",
                               "register", "audit"}
    assert everything["admin"]["policyread"] == {"type": "bool", "desc": "Read policies.", "group": "system"}
    assert policy_defs("authentication", [])["otppin"]["value"] == ["tokenpin", "userstore", "none"]
    conditions = policy_defs("conditions", [])
    assert conditions["comparators"]["matches"]["description"].startswith("The value matches")
    assert "HTTP Request header" in conditions["sections"]
    assert policy_defs("pinodes", ["node-a", "node-b"]) == ["node-a", "node-b"]
    with pytest.raises(PolicyError, match="unknown scope 'galaxy'"):
        policy_defs("galaxy", [])
