"""PolicyAuthPolicies memoizes a snapshot's answers by user and client, and only when they
cannot depend on anything else (time windows, extended conditions, check_all_resolvers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tesserad.core.policy.auth import PolicyAuthPolicies
from tesserad.core.policy.store import PolicyStore

from tests.wired import Core


def policies_with(core: Core, directory: Any = None, **policies: dict[str, Any]
                  ) -> tuple[PolicyStore, PolicyAuthPolicies]:
    store = PolicyStore(core.clock)
    with core.database.session() as session:
        for name, fields in policies.items():
            store.set_policy(session, name, **fields)
        session.commit()
    return store, PolicyAuthPolicies(store, "node1", directory=directory)


def test_answers_are_memoized_per_snapshot_user_and_client(core: Core) -> None:
    store, policies = policies_with(
        core, lan={"scope": "authentication", "action": "otppin=none", "client": "10.0.0.0/8"},
        bob={"scope": "authentication", "action": "passOnNoToken", "user": "bob"})
    alice, bob = core.user("alice"), core.user("bob")
    with core.database.session() as session:
        first = policies.for_request(session, alice, "10.1.1.1")
        assert policies.for_request(session, alice, "10.1.1.1") is first
        assert first.otppin == "none" and not first.pass_on_no_token
        assert policies.for_request(session, alice, "192.0.2.1").otppin == "tokenpin"
        assert policies.for_request(session, bob, "192.0.2.1").pass_on_no_token
        assert policies.for_request(session, None, "10.1.1.1").otppin == "none"
        store.set_policy(session, "lan", action="otppin=userstore")
        session.commit()
    with core.database.session() as session:
        changed = policies.for_request(session, alice, "10.1.1.1")
    assert changed.otppin == "userstore"  # a new snapshot starts a new memo


def test_time_dependent_policies_are_not_memoized(core: Core) -> None:
    core.clock.set(datetime(2024, 1, 10, 12, 0).timestamp())  # a Wednesday, local time
    _, policies = policies_with(core, office={"scope": "authentication", "action": "otppin=none",
                                              "time": "Mon-Fri: 8-18"})
    alice = core.user("alice")
    with core.database.session() as session:
        assert policies.for_request(session, alice, "10.1.1.1").otppin == "none"
        core.clock.set(datetime(2024, 1, 10, 20, 0).timestamp())
        assert policies.for_request(session, alice, "10.1.1.1").otppin == "tokenpin"


def test_condition_dependent_policies_are_not_memoized(core: Core) -> None:
    calls = []

    class Directory:
        """Counts the user-store questions a userinfo condition asks."""

        def user_info(self, session: object, user: object) -> dict[str, Any]:
            calls.append(user)
            return {"groups": ["vpn"]}

    _, policies = policies_with(core, Directory(),
                                vpn={"scope": "authorization", "action": "last_auth=1d",
                                     "conditions": [["userinfo", "groups", "contains", "vpn", True]]})
    alice = core.user("alice")
    with core.database.session() as session:
        for _ in range(2):
            assert policies.for_request(session, alice, "10.1.1.1").last_auth is not None
    assert len(calls) == 2  # asked again: user attributes may change at any time
