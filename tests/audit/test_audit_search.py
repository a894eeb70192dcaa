"""Audit search and CSV export over real rows on SQLite and PostgreSQL: filters with
wildcards, paging, order, age limits, realm and own-entry scopes, signature and gap checks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, update

from tesserad.core.audit import Auditor
from tesserad.core.audit_search import COLUMNS, AuditLog, AuditQuery, AuditScope, parse_age
from tesserad.core.clock import FixedClock
from tesserad.core.security.signing import Signer
from tesserad.core.store import Database
from tesserad.core.store.models import AuditEntry
from tesserad.core.tokens.base import ParameterError

ROWS = [  # action, success, user, realm, serial
    ("POST /validate/check", True, "alice", "sales", "HOTP1"),
    ("POST /validate/check", False, "bob", "sales", "HOTP2"),
    ("POST /validate/check", True, "carol", "dev", "TOTP1"),
    ("POST /token/init", True, "=cmd|'/c calc'!A1", "dev", "TOTP2"),
    ("GET /audit/", True, "admin", "", ""),
]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_700_000_000)


@pytest.fixture
def auditor(clock: FixedClock) -> Auditor:
    return Auditor(Signer.generate(), clock, "node-a")


@pytest.fixture
def audit_db(db: Database, auditor: Auditor, clock: FixedClock) -> Iterator[Database]:
    """Five rows, one hour apart, the last one written "now"."""
    with db.session() as session:
        for action, success, user, realm, serial in ROWS:
            auditor.record(session, action=action, success=success, user=user, realm=realm, serial=serial,
                           info="hello, world" if user == "bob" else "")
            clock.advance(3600)
        session.commit()
    clock.advance(-3600)
    yield db


@pytest.fixture
def log(auditor: Auditor, clock: FixedClock) -> AuditLog:
    return AuditLog(auditor, clock)


def search(db: Database, log: AuditLog, params: dict[str, str] | None = None,
           scope: AuditScope = AuditScope()) -> dict:
    with db.session() as session:
        return log.search(session, AuditQuery.from_params(params or {}), scope)


def users(result: dict) -> list[str]:
    return [entry["user"] for entry in result["auditdata"]]


def test_page_shape_and_default_order(audit_db: Database, log: AuditLog) -> None:
    result = search(audit_db, log)
    assert result["count"] == 5 and result["current"] == 1 and result["prev"] is None and result["next"] is None
    assert result["auditcolumns"] == list(COLUMNS)
    assert users(result) == ["admin", "=cmd|'/c calc'!A1", "carol", "bob", "alice"]  # newest first
    entry = result["auditdata"][-1]
    assert list(entry) == list(COLUMNS)
    assert entry["number"] == 1 and entry["success"] == 1 and entry["realm"] == "sales"
    assert entry["privacyidea_server"] == "node-a" and entry["action"] == "POST /validate/check"
    assert entry["date"].startswith("2023-11-14T22:13:20") and entry["sig_check"] == "OK"
    assert all(e["missing_line"] == "OK" for e in result["auditdata"])


def test_paging_and_ascending(audit_db: Database, log: AuditLog) -> None:
    first = search(audit_db, log, {"page_size": "2", "sortorder": "asc"})
    assert users(first) == ["alice", "bob"] and first["next"] == 2 and first["prev"] is None
    last = search(audit_db, log, {"page_size": "2", "page": "3", "sortorder": "asc"})
    assert users(last) == ["admin"] and last["next"] is None and last["prev"] == 2 and last["count"] == 5


def test_filters_exact_wildcard_and_typed(audit_db: Database, log: AuditLog) -> None:
    assert users(search(audit_db, log, {"user": "bob"})) == ["bob"]
    assert users(search(audit_db, log, {"user": "BOB"})) == []  # exact without a wildcard
    assert users(search(audit_db, log, {"serial": "*totp*", "sortorder": "asc"})) == ["carol", "=cmd|'/c calc'!A1"]
    assert users(search(audit_db, log, {"action": "POST /validate/*", "success": "0"})) == ["bob"]
    assert users(search(audit_db, log, {"number": "3"})) == ["carol"]
    assert search(audit_db, log, {"user": "*", "realm": ""})["count"] == 5  # "*" alone filters nothing
    assert users(search(audit_db, log, {"user": "b_b"})) == []  # "_" is no LIKE wildcard
    assert users(search(audit_db, log, {"privacyidea_server": "node-*"}))[0] == "admin"


def test_timelimit_and_policy_age_take_the_stricter(audit_db: Database, log: AuditLog) -> None:
    assert search(audit_db, log, {"timelimit": "90m"})["count"] == 2
    assert search(audit_db, log, {"timelimit": "1d"})["count"] == 5
    assert search(audit_db, log, {"timelimit": "1d"}, AuditScope(max_age=timedelta(minutes=30)))["count"] == 1
    assert search(audit_db, log, {"timelimit": "1m"}, AuditScope(max_age=timedelta(days=1)))["count"] == 1
    assert parse_age("2y") == timedelta(days=730)


def test_realm_scope_and_own_entries(audit_db: Database, log: AuditLog) -> None:
    sales = search(audit_db, log, {}, AuditScope(realms=frozenset({"Sales"})))
    assert sorted(users(sales)) == ["alice", "bob"]
    # A realm filter cannot widen the scope.
    assert search(audit_db, log, {"realm": "dev"}, AuditScope(realms=frozenset({"sales"})))["count"] == 0
    assert search(audit_db, log, {}, AuditScope(realms=frozenset()))["count"] == 0
    own = search(audit_db, log, {"user": "*"}, AuditScope(user=("carol", "dev")))
    assert users(own) == ["carol"]
    assert search(audit_db, log, {}, AuditScope(user=("carol", "sales")))["count"] == 0


def test_hidden_columns(audit_db: Database, log: AuditLog) -> None:
    result = search(audit_db, log, {}, AuditScope(hidden=frozenset({"sig_check", "info"})))
    assert "sig_check" not in result["auditcolumns"] and "info" not in result["auditcolumns"]
    assert all("sig_check" not in e and "info" not in e for e in result["auditdata"])


def test_tampered_row_and_deleted_row_are_reported(audit_db: Database, log: AuditLog) -> None:
    with audit_db.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == 2).values(success=True))
        session.execute(delete(AuditEntry).where(AuditEntry.id == 4))
        session.commit()
    entries = {e["number"]: e for e in search(audit_db, log)["auditdata"]}
    assert {n: e["sig_check"] for n, e in entries.items()} == {1: "OK", 2: "FAIL", 3: "OK", 5: "OK"}
    assert {n: e["missing_line"] for n, e in entries.items()} == {1: "OK", 2: "OK", 3: "FAIL", 5: "FAIL"}


@pytest.mark.parametrize("params, message", [
    ({"page": "0"}, "page: expected a positive integer"),
    ({"page_size": "x"}, "page_size: expected a positive integer"),
    ({"page_size": "100000"}, "page_size: at most 1000"),
    ({"sortorder": "sideways"}, "sortorder: expected asc or desc"),
    ({"timelimit": "yesterday"}, "timelimit: expected a number with s, m, h, d or y"),
    ({"colour": "red"}, "unknown audit parameter 'colour'"),
    ({"success": "maybe"}, "success: expected 1 or 0"),
    ({"number": "-1"}, "number: expected an entry number"),
])
def test_bad_queries_are_refused_precisely(params: dict[str, str], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        AuditQuery.from_params(params)


def test_csv_export_streams_in_chunks(audit_db: Database, log: AuditLog) -> None:
    pieces = list(log.export_csv(audit_db, AuditQuery.from_params({"serial": "*2"}),
                                 AuditScope(hidden=frozenset({"info"})), chunk=1))
    assert len(pieces) == 3  # header + one piece per matching row (chunk=1)
    rows = list(csv.reader(io.StringIO("".join(pieces))))
    header = rows[0]
    assert header == [c for c in COLUMNS if c != "info"]
    assert [row[header.index("user")] for row in rows[1:]] == ["bob", "'=cmd|'/c calc'!A1"]
    assert all(row[header.index("sig_check")] == "OK" for row in rows[1:])


def test_csv_export_respects_the_scope(audit_db: Database, log: AuditLog) -> None:
    text = "".join(log.export_csv(audit_db, AuditQuery(), AuditScope(realms=frozenset({"dev"}))))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["user"] for r in rows] == ["carol", "'=cmd|'/c calc'!A1"]
    assert rows[0]["info"] == ""
