"""Reading the audit trail: ``GET /audit/`` (filtered, paged) and the CSV export.

Entries come out in privacyIDEA's shape (``number``, ``sig_check``, ``missing_line``,
``privacyidea_server`` ...), so its UI and scripts read them unchanged. What a caller may
see is an ``AuditScope`` the edge builds from the caller's rights: an admin limited to
some realms sees only entries of those realms, a user only their own entries, and
``auditlog_age`` bounds the age of what anybody sees.

Filters take ``*`` wildcards, matched case-insensitively; without a wildcard a filter is
an exact match (which can use the indexes on ``user`` and ``serial``). The export reads
the table in chunks by id, one short transaction per chunk, so exporting millions of
rows neither holds a transaction open nor loads them all.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tesserad.core.audit import Auditor
from tesserad.core.clock import Clock, utc_datetime
from tesserad.core.csv_export import csv_line
from tesserad.core.store import Database
from tesserad.core.store.models import AuditEntry
from tesserad.core.tokens.base import ParameterError
from tesserad.core.users.patterns import LIKE_ESCAPE, like_pattern, matches_everything

# API name -> model attribute, in privacyIDEA's column order (``auditcolumns``).
_STORED: dict[str, InstrumentedAttribute[Any]] = {
    "number": AuditEntry.id, "date": AuditEntry.date, "action": AuditEntry.action,
    "success": AuditEntry.success, "serial": AuditEntry.serial, "token_type": AuditEntry.token_type,
    "user": AuditEntry.user, "realm": AuditEntry.realm, "resolver": AuditEntry.resolver,
    "administrator": AuditEntry.administrator, "action_detail": AuditEntry.action_detail,
    "info": AuditEntry.info, "privacyidea_server": AuditEntry.node, "policies": AuditEntry.policies,
    "client": AuditEntry.client, "user_agent": AuditEntry.user_agent,
    "user_agent_version": AuditEntry.user_agent_version, "log_level": AuditEntry.loglevel,
    "clearance_level": AuditEntry.clearance_level, "thread_id": AuditEntry.thread_id,
    "authentication": AuditEntry.authentication, "startdate": AuditEntry.start_date,
    "duration": AuditEntry.duration,
}
COLUMNS = ("number", "date", "sig_check", "missing_line", "action", "success", "serial", "token_type",
           "user", "realm", "resolver", "administrator", "action_detail", "info", "privacyidea_server",
           "policies", "client", "user_agent", "user_agent_version", "log_level", "clearance_level",
           "thread_id", "authentication", "startdate", "duration")
# Columns a search may filter on: the text columns, ``success`` and ``number``.
FILTERS = tuple(name for name in _STORED if name not in ("date", "startdate", "duration"))
DEFAULT_PAGE_SIZE = 15
MAX_PAGE_SIZE = 1000
EXPORT_CHUNK = 500
_DURATION = re.compile(r"\s*(\d+)\s*([smhdy])\s*")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}
_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no")


def parse_age(text: str, what: str = "timelimit") -> timedelta:
    """``1d``, ``12h``, ``30m``, ``10s`` or ``1y`` as a timedelta (privacyIDEA's timelimit and
    ``auditlog_age`` values)."""
    match = _DURATION.fullmatch(text or "")
    if not match:
        raise ParameterError(f"{what}: expected a number with s, m, h, d or y, like 1d or 12h; got {text!r}")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True)
class AuditScope:
    """What the caller may see. ``realms`` None: every realm; otherwise only entries of these
    realms. ``user`` (login, realm): only that user's entries. ``max_age``: nothing older
    (``auditlog_age``). ``hidden``: columns removed from the answer (``hide_audit_columns``)."""

    realms: frozenset[str] | None = None
    user: tuple[str, str] | None = None
    max_age: timedelta | None = None
    hidden: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AuditQuery:
    """One search: column filters, paging, order and an optional age limit."""

    filters: Mapping[str, str] = field(default_factory=dict)
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    descending: bool = True
    timelimit: timedelta | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> AuditQuery:
        """The query in ``params`` (``page``, ``page_size``, ``sortorder``, ``timelimit`` and
        column filters); any other key is refused, naming it."""
        rest = dict(params)
        page = _positive(rest.pop("page", "1") or "1", "page")
        page_size = _positive(rest.pop("page_size", str(DEFAULT_PAGE_SIZE)) or str(DEFAULT_PAGE_SIZE), "page_size")
        if page_size > MAX_PAGE_SIZE:
            raise ParameterError(f"page_size: at most {MAX_PAGE_SIZE}; use the CSV export for more")
        order = (rest.pop("sortorder", "desc") or "desc").lower()
        if order not in ("asc", "desc"):
            raise ParameterError(f"sortorder: expected asc or desc, got {order!r}")
        timelimit = rest.pop("timelimit", "")
        unknown = sorted(set(rest) - set(FILTERS))
        if unknown:
            raise ParameterError(f"unknown audit parameter {unknown[0]!r}; filters: {', '.join(FILTERS)}")
        for key in ("success", "number"):
            if rest.get(key, "").strip():
                _exact(key, rest[key])  # checked here, so the error comes before any query
        return cls(filters=rest, page=page, page_size=page_size, descending=order == "desc",
                   timelimit=parse_age(timelimit) if timelimit else None)


def _positive(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ParameterError(f"{name}: expected a positive integer, got {text!r}") from None
    if value < 1:
        raise ParameterError(f"{name}: expected a positive integer, got {value}")
    return value


def _exact(key: str, text: str) -> Any:
    """The typed value of a ``success`` or ``number`` filter."""
    value = text.strip().lower()
    if key == "success":
        if value in _TRUE + _FALSE:
            return value in _TRUE
        raise ParameterError(f"success: expected 1 or 0, got {text!r}")
    if not value.isdigit():
        raise ParameterError(f"number: expected an entry number, got {text!r}")
    return int(value)


def _conditions(query: AuditQuery, scope: AuditScope, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for key, pattern in query.filters.items():
        pattern = pattern.strip()
        if not pattern or matches_everything(pattern):
            continue
        column = _STORED[key]
        if key in ("success", "number"):
            conditions.append(column == _exact(key, pattern))
        elif "*" in pattern:
            conditions.append(column.ilike(like_pattern(pattern), escape=LIKE_ESCAPE))
        else:
            conditions.append(column == pattern)
    if scope.realms is not None:
        conditions.append(func.lower(AuditEntry.realm).in_(sorted(r.lower() for r in scope.realms)))
    if scope.user is not None:
        login, realm = scope.user
        conditions += [AuditEntry.user == login, func.lower(AuditEntry.realm) == realm.lower()]
    ages = [age for age in (query.timelimit, scope.max_age) if age is not None]
    if ages:
        # The stricter of the request's and the policy's limit.
        conditions.append(AuditEntry.date >= now - min(ages))
    return conditions


def _text(value: Any) -> Any:
    """A column value as privacyIDEA's JSON has it: ISO dates, 1/0 for ``success``."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


class AuditLog:
    """Searches and exports the audit table, verifying each row's signature on the way."""

    def __init__(self, auditor: Auditor, clock: Clock):
        self._auditor = auditor
        self._clock = clock

    def _statement(self, query: AuditQuery, scope: AuditScope) -> Select[AuditEntry]:
        return select(AuditEntry).where(*_conditions(query, scope, utc_datetime(self._clock)))

    def search(self, session: Session, query: AuditQuery, scope: AuditScope) -> dict[str, Any]:
        """One page, in the shape of privacyIDEA's ``GET /audit/``: ``auditdata``, ``count``,
        ``current``, ``prev``, ``next`` and the visible ``auditcolumns``."""
        statement = self._statement(query, scope)
        count = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        order = AuditEntry.id.desc() if query.descending else AuditEntry.id.asc()
        rows = list(session.scalars(statement.order_by(order)
                                    .offset((query.page - 1) * query.page_size).limit(query.page_size)))
        return {
            "auditcolumns": [c for c in COLUMNS if c not in scope.hidden],
            "auditdata": self._entries(session, rows, scope.hidden),
            "count": count,
            "current": query.page,
            "prev": query.page - 1 if query.page > 1 else None,
            "next": query.page + 1 if count > query.page * query.page_size else None,
        }

    def _entries(self, session: Session, rows: list[AuditEntry], hidden: Collection[str]) -> list[dict[str, Any]]:
        present = self._neighbours(session, rows)
        entries = []
        for row in rows:
            entry = {name: _text(getattr(row, column.key)) for name, column in _STORED.items()}
            entry["sig_check"] = "OK" if self._auditor.verify(row) else "FAIL"
            entry["missing_line"] = "OK" if {row.id - 1, row.id + 1} <= present else "FAIL"
            entries.append({c: entry[c] for c in COLUMNS if c not in hidden})
        return entries

    @staticmethod
    def _neighbours(session: Session, rows: list[AuditEntry]) -> set[int]:
        """The ids next to ``rows`` that exist; the ends of the table count as present, so
        only a gap (a deleted row) reports ``missing_line`` FAIL."""
        if not rows:
            return set()
        wanted = {row.id + step for row in rows for step in (-1, 1)}
        first, last = session.execute(select(func.min(AuditEntry.id), func.max(AuditEntry.id))).one()
        found = set(session.scalars(select(AuditEntry.id).where(AuditEntry.id.in_(sorted(wanted)))))
        return found | {first - 1, last + 1}

    def export_csv(self, database: Database, query: AuditQuery, scope: AuditScope, *,
                   chunk: int = EXPORT_CHUNK) -> Iterator[str]:
        """The matching entries as CSV text: a header line, then ``chunk`` rows per piece,
        oldest first (paging is ignored). Each piece is read in its own short transaction,
        so call ``next`` from a worker thread and write each piece as it comes."""
        columns = [c for c in COLUMNS if c not in scope.hidden]
        yield csv_line(columns)
        after = 0
        while True:
            with database.session() as session:
                rows = list(session.scalars(self._statement(query, scope).where(AuditEntry.id > after)
                                            .order_by(AuditEntry.id.asc()).limit(chunk)))
                entries = self._entries(session, rows, scope.hidden)
            if not rows:
                return
            after = rows[-1].id
            yield "".join(csv_line([entry[c] for c in columns]) for entry in entries)
