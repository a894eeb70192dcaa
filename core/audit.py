"""The audit trail: one signed row per request, written in the request's own transaction.

The signature covers every column but the id, with the install's Ed25519 key, so a row
changed in the database after the fact no longer verifies. Audit text never holds a
password, PIN or OTP: callers pass messages, not request parameters.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tesserad import __version__
from tesserad.core.clock import Clock, utc_datetime
from tesserad.core.security.signing import Signer
from tesserad.core.store.models import AuditEntry
from tesserad.core.store.prepared import Prepared

SIGNED_COLUMNS = ("date", "start_date", "duration", "action", "success", "authentication", "serial",
                  "token_type", "user", "realm", "resolver", "administrator", "action_detail", "info",
                  "node", "client", "user_agent", "user_agent_version", "version", "loglevel",
                  "clearance_level", "thread_id", "policies")
# Longer values are cut, so a huge request parameter cannot bloat the audit table.
MAX_TEXT = 2000
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Cut to MAX_TEXT and escape control characters (PostgreSQL refuses NUL; terminals
    and log viewers should not interpret what a client sent) and lone surrogates (no
    database stores them: the row of a request that carried one must still be written)."""
    return _UNSTORABLE.sub(_escape, value[:MAX_TEXT])


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _canonical(values: Mapping[str, Any]) -> bytes:
    plain = {column: (v.isoformat() if isinstance(v, dt.date | dt.time) else v)
             for column in SIGNED_COLUMNS for v in [values.get(column)]}
    return json.dumps(plain, sort_keys=True, default=str).encode()


_DEFAULTS: dict[str, Any] = {column: "" for column in SIGNED_COLUMNS}
_DEFAULTS.update(success=False, start_date=None, duration=None)
_INSERT = Prepared(insert(AuditEntry), columns=(*SIGNED_COLUMNS, "signature"))


class Auditor:
    def __init__(self, signer: Signer, clock: Clock, node: str):
        self._signer = signer
        self._clock = clock
        self._node = node

    def record(self, session: Session, *, action: str, success: bool, started: float | None = None,
               **fields: Any) -> None:
        """Insert a signed row in the session's transaction (the caller commits). A plain
        INSERT, not an ORM object: this runs once per authentication."""
        values = dict(_DEFAULTS)
        unknown = fields.keys() - _DEFAULTS.keys()
        if unknown:
            raise TypeError(f"no audit column {', '.join(sorted(unknown))}")
        values.update({k: (clean_text(v) if isinstance(v, str) else v) for k, v in fields.items()})
        values.update(date=utc_datetime(self._clock), action=clean_text(action)[:255], success=success,
                      node=self._node, version=__version__, thread_id=str(threading.get_ident()))
        if started is not None:
            values["duration"] = round(time.monotonic() - started, 6)
        values["signature"] = self._signer.sign(_canonical(values))
        _INSERT.execute(session, values)

    def verify(self, entry: AuditEntry) -> bool:
        """True when a stored row is exactly as it was signed."""
        values = {column: getattr(entry, column) for column in SIGNED_COLUMNS}
        return self._signer.verify(_canonical(values), entry.signature)
