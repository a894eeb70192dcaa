"""The models on a migrated database: round trips, cascades and the timestamp type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import configure_mappers

from tesserad.core.store import Database
from tesserad.core.store.models import (
    Admin,
    Base,
    Policy,
    PolicyCondition,
    Realm,
    Resolver,
    ResolverConfig,
    ResolverRealm,
    Token,
    TokenGroup,
    TokenGroupMember,
    TokenInfo,
    TokenOwner,
    TokenRealm,
)

NOW = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC)


def _count(db: Database, model: type[Base]) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _add_user_token(db: Database) -> None:
    """Realm ``corp`` with resolver ``people``, and token OATH0001 owned by user 1000."""
    with db.session() as session:
        realm = Realm(name="corp", is_default=True)
        resolver = Resolver(name="people", rtype="passwdresolver",
                            config=[ResolverConfig(key="fileName", value="/etc/passwd")])
        session.add(ResolverRealm(realm=realm, resolver=resolver, priority=1))
        token = Token(
            serial="OATH0001", tokentype="hotp", secret_enc=b"\x00ciphertext\xff",
            pin_hash="$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA", created_at=NOW,
            info=[TokenInfo(key="hashlib", value="sha1"), TokenInfo(key="tokenkind", value="software")],
            owners=[TokenOwner(realm=realm, resolver="people", user_id="1000")],
            realms=[realm],
            groups=[TokenGroup(name="laptops")],
        )
        session.add(token)
        session.commit()


def test_token_round_trip(migrated: Database) -> None:
    _add_user_token(migrated)

    with migrated.session() as session:
        token = session.scalars(select(Token).where(Token.serial == "OATH0001")).one()
        assert token.secret_enc == b"\x00ciphertext\xff"
        assert (token.otplen, token.count, token.count_window, token.sync_window) == (6, 0, 10, 1000)
        assert (token.maxfail, token.failcount, token.rollout_state) == (10, 0, "")
        assert (token.active, token.revoked, token.locked) == (True, False, False)
        assert token.created_at == NOW and token.created_at.tzinfo is not None
        assert {i.key: i.value for i in token.info} == {"hashlib": "sha1", "tokenkind": "software"}
        [owner] = token.owners
        assert (owner.realm.name, owner.resolver, owner.user_id) == ("corp", "people", "1000")
        assert [realm.name for realm in token.realms] == ["corp"]
        assert [group.name for group in token.groups] == ["laptops"]
        resolver = session.scalars(select(Resolver)).one()
        assert [(rr.realm.name, rr.priority) for rr in resolver.realms] == [("corp", 1)]

        session.delete(token)
        session.commit()

    for model in (Token, TokenInfo, TokenOwner, TokenRealm, TokenGroupMember):
        assert _count(migrated, model) == 0, model
    assert _count(migrated, Realm) == _count(migrated, TokenGroup) == 1


def test_sql_delete_cascades_in_the_database(migrated: Database) -> None:
    """Atomic SQL (no ORM) relies on ON DELETE CASCADE, i.e. on SQLite's foreign_keys."""
    _add_user_token(migrated)
    with migrated.session() as session:
        session.execute(delete(Token).where(Token.serial == "OATH0001"))
        session.commit()
    for model in (TokenInfo, TokenOwner, TokenRealm, TokenGroupMember):
        assert _count(migrated, model) == 0, model


def test_realm_owning_tokens_cannot_be_deleted(migrated: Database) -> None:
    _add_user_token(migrated)
    with migrated.session() as session, pytest.raises(IntegrityError):
        session.execute(delete(Realm).where(Realm.name == "corp"))
        session.flush()


def test_policy_conditions_keep_order_and_go_with_the_policy(migrated: Database) -> None:
    conditions = [
        PolicyCondition(section="userinfo", key="groups", comparator="contains", value="vpn"),
        PolicyCondition(section="token", key="active", comparator="<", value="1", active=False),
    ]
    with migrated.session() as session:
        session.add(Policy(name="vpn", scope="authentication", action="otppin=userstore",
                           conditions=conditions))
        session.commit()
    with migrated.session() as session:
        policy = session.scalars(select(Policy)).one()
        assert (policy.priority, policy.active, policy.check_all_resolvers) == (1, True, False)
        assert [(c.key, c.active) for c in policy.conditions] == [("groups", True), ("active", False)]
        session.delete(policy)
        session.commit()
    assert _count(migrated, PolicyCondition) == 0


def test_timestamps_come_back_as_utc(migrated: Database) -> None:
    local = NOW.astimezone(timezone(timedelta(hours=2)))
    with migrated.session() as session:
        session.add(Admin(username="admin", password_hash="x", created_at=local))
        session.commit()
    with migrated.session() as session:
        admin = session.scalars(select(Admin)).one()
        assert admin.created_at == NOW
        assert admin.created_at.utcoffset() == timedelta(0)
        assert admin.last_login_at is None and admin.active


def test_naive_timestamps_are_refused(migrated: Database) -> None:
    with migrated.session() as session:
        session.add(Admin(username="admin", password_hash="x", created_at=datetime(2026, 1, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_all_mappers_configure() -> None:
    configure_mappers()


def test_constraint_names_fit_every_backend() -> None:
    """PostgreSQL truncates identifiers beyond 63 characters (MariaDB allows 64)."""
    tables = Base.metadata.tables.values()
    names = [str(constraint.name) for table in tables for constraint in table.constraints]
    names += [str(index.name) for table in tables for index in table.indexes]
    assert all(name != "None" for name in names)
    assert [name for name in names if len(name) > 63] == []
