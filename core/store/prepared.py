"""Statements of the login path, compiled once per dialect and run on the DBAPI cursor.

SQLAlchemy Core spends 0.2-0.3 ms per statement on the way to the driver (execution
context, events, parameter and result processing in general form) while the driver itself
needs about 0.04 ms; a login runs four statements. ``Prepared`` keeps SQLAlchemy as the
author of the SQL (the same Core construct, compiled by the dialect) and of the type
processing (the dialect's bind and result processors, e.g. SQLite's datetime strings and
``UTCDateTime``), and does only the last step by hand: the cursor call, inside the
connection and transaction of the caller's session. The engine's ``before_cursor_execute``
listeners see the statement as they see any other (the SQLite write gate, tests counting
statements; they get no execution context), and driver errors come out as SQLAlchemy's
``DBAPIError``, as from ``Connection.execute``, with the parameters hidden (they may hold
secrets); a connection lost on the way is ``DatabaseUnavailable``, as the engine's errors
hook (``Database``) makes it for every other statement.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from tesserad.core.errors import DatabaseUnavailable
from tesserad.core.store.faults import unreachable

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import DBAPIModule

# Key in a session's info: (transaction, connection) of the last statement.
_CONNECTION = "tesserad_prepared_connection"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    # Parameter names in the order the SQL wants them (positional) or once each (named).
    names: tuple[str, ...]
    defaults: Mapping[str, Any]
    binds: Mapping[str, Callable[[Any], Any]]
    results: tuple[tuple[int, Callable[[Any], Any]], ...]
    row: type | None


class Rows:
    """The result of one ``Prepared.execute``: the rows of a SELECT (tuples with the
    statement's column names as attributes) and the driver's rowcount."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: Sequence[Any], rowcount: int):
        self.rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def first(self) -> Any | None:
        return self.rows[0] if self.rows else None


class Prepared:
    """One Core statement; ``execute`` runs it in a session's (or connection's) transaction.

    Only plain statements belong here: no expanding IN lists, no statement that depends on
    execution options. Insert statements name their columns: ``columns`` (the keys every
    execution passes)."""

    def __init__(self, statement: ClauseElement, *, columns: tuple[str, ...] | None = None):
        self._statement = statement
        self._columns = list(columns) if columns is not None else None
        self._by_dialect: dict[tuple[Any, ...], _Compiled] = {}
        self._lock = threading.Lock()

    def execute(self, session: Session | Connection, params: Mapping[str, Any]) -> Rows:
        connection = _connection(session) if isinstance(session, Session) else session
        compiled = self._compiled(connection.dialect)
        values = {**compiled.defaults, **params}
        binds = compiled.binds
        if compiled.positional:
            args: Any = tuple(binds[n](values[n]) if n in binds else values[n] for n in compiled.names)
        else:
            args = {n: (binds[n](values[n]) if n in binds else values[n]) for n in compiled.names}
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        sql = compiled.sql
        try:
            for listener in connection.dispatch.before_cursor_execute:
                sql, args = listener(connection, cursor, sql, args, None, False)
            cursor.execute(sql, args)
            rows = cursor.fetchall() if compiled.row is not None else []
            rowcount = cursor.rowcount
        except connection.dialect.loaded_dbapi.Error as exc:
            error = self._error(connection, compiled, exc, cursor)
            if unreachable(error):
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise DatabaseUnavailable(f"database unreachable: connection lost: {reason}") from error
            raise error from exc
        finally:
            cursor.close()
        if compiled.row is not None:
            rows = [compiled.row(*self._processed(compiled, row)) for row in rows]
        return Rows(rows, rowcount)

    @staticmethod
    def _processed(compiled: _Compiled, row: tuple[Any, ...]) -> list[Any]:
        values = list(row)
        for index, process in compiled.results:
            values[index] = process(values[index])
        return values

    @staticmethod
    def _error(connection: Connection, compiled: _Compiled, exc: DBAPIModule.Error, cursor: Any) -> DBAPIError:
        dialect = connection.dialect
        lost = dialect.is_disconnect(exc, connection.connection.dbapi_connection, cursor)
        if lost:
            connection.invalidate(exc)
        return DBAPIError.instance(compiled.sql, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True,
                                   connection_invalidated=lost, dialect=dialect)  # type: ignore[return-value]

    def _compiled(self, dialect: Dialect) -> _Compiled:
        # What the SQL text depends on: the backend, the driver's parameter style and the
        # server version some SQL features are decided by.
        key = (dialect.name, dialect.driver, dialect.paramstyle, dialect.server_version_info)
        found = self._by_dialect.get(key)
        if found is None:
            with self._lock:
                found = self._by_dialect.get(key) or self._compile(dialect)
                self._by_dialect[key] = found
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled: Any = self._statement.compile(dialect=dialect, column_keys=self._columns,
                                                compile_kwargs={"render_postcompile": True})
        if compiled.positional:
            names = tuple(compiled.positiontup)
        else:
            names = tuple(dict.fromkeys(compiled.bind_names.values()))
        binds = {}
        for bind, name in compiled.bind_names.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binds[name] = process
        defaults = {name: bind.value for bind, name in compiled.bind_names.items() if not bind.required}
        row: type | None = None
        results: tuple[tuple[int, Callable[[Any], Any]], ...] = ()
        select = bool(getattr(self._statement, "is_select", False))
        if select or compiled.effective_returning:
            columns = list(self._statement.selected_columns if select  # type: ignore[attr-defined]
                           else compiled.effective_returning)
            keys = [str(getattr(c, "key", None) or getattr(c, "name", f"c{i}")) for i, c in enumerate(columns)]
            row = _row_class(keys)
            results = tuple((i, p) for i, c in enumerate(columns)
                            for p in [c.type.dialect_impl(dialect).result_processor(dialect, None)] if p is not None)
        return _Compiled(compiled.string, bool(compiled.positional), names, defaults, binds, results, row)


def _row_class(keys: list[str]) -> type:
    """A tuple class with the statement's column names as attributes."""
    return namedtuple("Row", keys, rename=True)


def _connection(session: Session) -> Connection:
    """The session's connection, as ``session.connection()`` gives it, at a fraction of its
    cost (about 0.05 ms a call): remembered for as long as the session's transaction lasts."""
    transaction = session.get_transaction()
    cached = session.info.get(_CONNECTION)
    if transaction is not None and cached is not None and cached[0] is transaction and transaction.is_active:
        remembered: Connection = cached[1]
        return remembered
    connection = session.connection()
    session.info[_CONNECTION] = (session.get_transaction(), connection)
    return connection
