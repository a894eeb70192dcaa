"""PolicyAuthPolicies: authentication-scope policies resolved into the engine's AuthSettings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tesserad.core.auth.policy import AuthPolicies, AuthSettings
from tesserad.core.clock import FixedClock
from tesserad.core.policy import PolicyError, PolicyStore, UnsupportedActions
from tesserad.core.policy.auth import PolicyAuthPolicies
from tesserad.core.security.keyfile import KeyFileSecurityModule, KeyMaterial
from tesserad.core.store import Database
from tesserad.core.store.models import Policy
from tesserad.core.sysconfig import SystemConfig
from tesserad.core.users.base import User
from tesserad.core.users.directory import Directory

ALICE = User("alice", "realm1", "files", "1000")


def settings(db: Database, policies: AuthPolicies, user: User | None = ALICE, client: str = "10.1.2.3") -> AuthSettings:
    with db.session() as s:
        return policies.for_request(s, user, client)


def add(db: Database, store: PolicyStore, **policies: dict[str, Any]) -> None:
    with db.session() as s:
        for name, fields in policies.items():
            store.set_policy(s, name, **fields)
        s.commit()


def test_without_policies_the_defaults(sqlite_db: Database, clock: FixedClock) -> None:
    policies = PolicyAuthPolicies(PolicyStore(clock), "node1")
    assert settings(sqlite_db, policies) == AuthSettings()


def test_every_setting_and_the_deciding_policies(sqlite_db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    add(sqlite_db, store,
        pin={"scope": "authentication", "action": "otppin=userstore, passthru=userstore", "realm": "realm1"},
        lan={"scope": "authentication", "action": "passOnNoToken, passOnNoUser", "client": "10.0.0.0/8"},
        cr={"scope": "authentication", "action": "challenge_response=hotp totp, challenge_text='Your code, please'"},
        cr_email={"scope": "authentication", "action": "challenge_response=email", "priority": 7},
        counters={"scope": "authentication", "action": "increase_failcounter_on_challenge, reset_all_user_tokens, "
                                                        "resync_via_multichallenge"})
    got = settings(sqlite_db, PolicyAuthPolicies(store, "node1"))
    assert got == AuthSettings(
        otppin="userstore", passthru=True, pass_on_no_token=True, pass_on_no_user=True,
        challenge_response=frozenset({"hotp", "totp", "email"}), challenge_text="Your code, please",
        increase_failcounter_on_challenge=True, reset_all_user_tokens=True, resync_via_multichallenge=True,
        policy_names=("pin", "cr", "cr_email", "lan", "counters"))


def test_user_client_and_node_select(sqlite_db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    add(sqlite_db, store,
        realm2={"scope": "authentication", "action": "otppin=none", "realm": "realm2"},
        wan={"scope": "authentication", "action": "passOnNoToken", "client": "-10.0.0.0/8, 0.0.0.0/0"},
        node2={"scope": "authentication", "action": "reset_all_user_tokens", "pinode": "node2"})
    policies = PolicyAuthPolicies(store, "node1")
    assert settings(sqlite_db, policies) == AuthSettings()
    assert settings(sqlite_db, policies, User("bob", "realm2")).otppin == "none"
    assert settings(sqlite_db, policies, client="192.0.2.1").pass_on_no_token
    assert not settings(sqlite_db, policies, client="").pass_on_no_token  # unknown client
    assert settings(sqlite_db, PolicyAuthPolicies(store, "node2")).reset_all_user_tokens
    # A serial-only request (no user) is not matched on realm: the realm2 policy applies.
    assert settings(sqlite_db, policies, None).otppin == "none"


def test_legacy_and_radius_passthru(sqlite_db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    add(sqlite_db, store, legacy={"scope": "authentication", "action": "passthru"})
    policies = PolicyAuthPolicies(store, "node1")
    assert settings(sqlite_db, policies).passthru is True
    with pytest.raises(UnsupportedActions, match="passthru to the RADIUS server 'radius1' is not supported yet"):
        add(sqlite_db, store, legacy={"scope": "authentication", "action": "passthru=radius1"})
    # Stored by an earlier version: not applied, so nobody passes.
    with sqlite_db.session() as session:
        session.execute(update(Policy).where(Policy.name == "legacy").values(action="passthru=radius1"))
        session.commit()
    assert settings(sqlite_db, PolicyAuthPolicies(PolicyStore(clock), "node1")).passthru is False


def test_conflicts_stop_the_request(sqlite_db: Database, clock: FixedClock) -> None:
    store = PolicyStore(clock)
    add(sqlite_db, store, a={"scope": "authentication", "action": "otppin=userstore"},
        b={"scope": "authentication", "action": "otppin=none"})
    with pytest.raises(PolicyError, match="conflicting values for 'otppin'"):
        settings(sqlite_db, PolicyAuthPolicies(store, "node1"))


@pytest.fixture
def directory(sqlite_db: Database, clock: FixedClock, tmp_path: Path) -> Iterator[Directory]:
    """realm1 = files (alice, bob) before extra (alice only)."""
    (tmp_path / "passwd").write_text("alice:x:1000:1000:Alice,,,,alice@example.com:/:/bin/sh\n"
                                     "bob:x:1001:1001:Bob,,,,bob@example.org:/:/bin/sh\n")
    (tmp_path / "extra").write_text("alice:x:2000:2000:Alice,,,,alice@extra.example:/:/bin/sh\n")
    d = Directory(KeyFileSecurityModule(KeyMaterial.generate()), clock, SystemConfig(clock))
    with sqlite_db.session() as s:
        d.save_resolver(s, "files", "passwdresolver", {"fileName": str(tmp_path / "passwd")})
        d.save_resolver(s, "extra", "passwdresolver", {"fileName": str(tmp_path / "extra")})
        d.save_realm(s, "realm1", [("files", 1), ("extra", 2)])
        s.commit()
    yield d
    d.close()


def test_userinfo_conditions_and_all_resolvers(sqlite_db: Database, clock: FixedClock, directory: Directory) -> None:
    store = PolicyStore(clock)
    add(sqlite_db, store,
        staff={"scope": "authentication", "action": "otppin=userstore",
               "conditions": [["userinfo", "email", "matches", ".*@example.com", True]]},
        extra={"scope": "authentication", "action": "passOnNoToken", "resolver": "extra",
               "check_all_resolvers": True})
    policies = PolicyAuthPolicies(store, "node1", directory=directory)
    with sqlite_db.session() as s:
        alice = directory.find_user(s, "alice", "realm1")
        bob = directory.find_user(s, "bob", "realm1")
    assert alice.resolver == "files"
    got = settings(sqlite_db, policies, alice)
    assert (got.otppin, got.pass_on_no_token, got.policy_names) == ("userstore", True, ("staff", "extra"))
    got = settings(sqlite_db, policies, bob)
    assert (got.otppin, got.pass_on_no_token) == ("tokenpin", False)
    # Without a user store to ask, a userinfo condition cannot be decided: the request fails.
    with pytest.raises(PolicyError, match="has no user attributes"):
        settings(sqlite_db, PolicyAuthPolicies(store, "node1"), alice)
