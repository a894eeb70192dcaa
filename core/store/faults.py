"""Which SQL errors mean "the database cannot be reached now" rather than "the database
said no": the line between ``Unavailable`` (ask again elsewhere or later) and an error.

Shared by tesserad's own database and the SQL resolver, so both draw the line alike.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout


def unreachable(exc: SQLAlchemyError) -> bool:
    """True for a connection that cannot be opened, one lost during a statement, and a pool
    with no free connection within its timeout; False for a statement the database refused
    (a missing table or column, a constraint). A connection the server refuses for its own
    reasons (an unknown database, a wrong password, too many clients, starting up) counts
    as unreachable: libpq reports all of them alike, without an SQLSTATE."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    # Without a statement the error came from opening the connection.
    return exc.connection_invalidated or (exc.statement is None and isinstance(exc, (OperationalError,
                                                                                     InterfaceError)))
