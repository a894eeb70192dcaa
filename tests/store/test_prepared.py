"""Prepared statements give what ``Connection.execute`` gives, on SQLite and PostgreSQL:
the same rows and types, the session's transaction, the engine's listeners, SQLAlchemy's
errors without the parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, create_engine, event, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tesserad.core.errors import DatabaseUnavailable
from tesserad.core.store import Database
from tesserad.core.store.models import Token, TokenInfo
from tesserad.core.store.prepared import Prepared

from tests.pgserver import fresh_database
from tests.store.test_models import NOW, _add_user_token

BY_SERIAL = (select(Token.id, Token.serial, Token.created_at, Token.active, Token.secret_enc, TokenInfo.key)
             .join(TokenInfo, TokenInfo.token_id == Token.id)
             .where(Token.serial == bindparam("serial")).order_by(TokenInfo.key))
COUNT_UP = update(Token).where(Token.serial == bindparam("serial"), Token.count <= bindparam("seen")) \
    .values(count=bindparam("next"), last_auth_at=bindparam("now"), failcount=0)


def test_rows_equal_those_of_core(migrated: Database) -> None:
    _add_user_token(migrated)
    with migrated.session() as session:
        expected = [tuple(row) for row in session.execute(BY_SERIAL, {"serial": "OATH0001"})]
        rows = Prepared(BY_SERIAL).execute(session, {"serial": "OATH0001"})
    assert [tuple(row) for row in rows] == expected
    first = rows.first()
    assert first.serial == "OATH0001" and first.key == "hashlib" and first.active is True
    assert first.created_at == NOW and first.created_at.tzinfo is not None
    assert first.secret_enc == b"\x00ciphertext\xff"


def test_update_in_the_session_transaction(migrated: Database) -> None:
    _add_user_token(migrated)
    later = NOW + timedelta(seconds=5)
    statement = Prepared(COUNT_UP)
    with migrated.session() as session:
        assert statement.execute(session, {"serial": "OATH0001", "seen": 0, "next": 1, "now": later}).rowcount == 1
        assert statement.execute(session, {"serial": "OATH0001", "seen": 0, "next": 1, "now": later}).rowcount == 0
        session.rollback()
        assert statement.execute(session, {"serial": "OATH0001", "seen": 0, "next": 3, "now": later}).rowcount == 1
        session.commit()
        # After the commit: a new transaction on a connection from the pool.
        assert statement.execute(session, {"serial": "OATH0001", "seen": 3, "next": 4, "now": later}).rowcount == 1
    with migrated.session() as session:
        token = session.scalars(select(Token).where(Token.serial == "OATH0001")).one()
        assert (token.count, token.last_auth_at) == (3, later)  # the last one was never committed


def test_listeners_see_the_statement(migrated: Database) -> None:
    _add_user_token(migrated)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(migrated.engine, "before_cursor_execute", record)
    with migrated.session() as session:
        Prepared(COUNT_UP).execute(session, {"serial": "X", "seen": 0, "next": 1, "now": NOW})
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("UPDATE TOKEN")


def test_driver_error_is_dbapi_error_without_parameters(migrated: Database) -> None:
    _add_user_token(migrated)
    add = Prepared(insert(TokenInfo), columns=("token_id", "key", "value", "type", "description"))
    with migrated.session() as session:
        token_id = session.scalar(select(Token.id))
        with pytest.raises(DBAPIError) as caught:
            # (token_id, key) is unique: the driver refuses a second "hashlib".
            add.execute(session, {"token_id": token_id, "key": "hashlib", "value": "s3cr3t-value",
                                  "type": "", "description": ""})
    assert "s3cr3t-value" not in str(caught.value)
    assert "UNIQUE" in str(caught.value).upper() or "unique" in str(caught.value)


def test_naive_datetime_refused_like_core(migrated: Database) -> None:
    _add_user_token(migrated)
    naive = datetime(2026, 1, 1)
    with migrated.session() as session, pytest.raises(ValueError, match="naive datetime"):
        Prepared(COUNT_UP).execute(session, {"serial": "OATH0001", "seen": 0, "next": 1, "now": naive})
    assert NOW.tzinfo is UTC


def _cut(session: Session, server_url: str) -> None:
    """End the session's connection from the server side, as a restart or failover does."""
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(server_url)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


@pytest.mark.postgresql
def test_a_connection_lost_mid_transaction_is_unavailable_and_the_next_one_works(postgres_server: str) -> None:
    with fresh_database(postgres_server) as url:
        db = Database(url)
        try:
            db.upgrade()
            _add_user_token(db)
            statement = Prepared(BY_SERIAL)
            with db.session() as session:
                _cut(session, postgres_server)
                with pytest.raises(DatabaseUnavailable, match="^database unreachable: connection lost"):
                    statement.execute(session, {"serial": "OATH0001"})
            with db.session() as session:  # the ORM's statements meet the same error
                _cut(session, postgres_server)
                with pytest.raises(DatabaseUnavailable, match="^database unreachable: "):
                    session.execute(BY_SERIAL, {"serial": "OATH0001"})
            with db.session() as session:
                assert statement.execute(session, {"serial": "OATH0001"}).first().serial == "OATH0001"
        finally:
            db.dispose()
