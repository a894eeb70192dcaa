"""One authentication as a unit of work: a transaction, the engine's decision, an audit row.

Edges call ``authenticate`` from a worker thread. A request that the engine refuses
(unknown user, malformed input) rolls back everything it might have touched and is
audited in a fresh transaction before the error goes back to the edge.
"""

from __future__ import annotations

import time
from typing import Any

from tesserad.core.auth import challenges
from tesserad.core.clock import utc_datetime

from tesserad.core.audit import Auditor
from tesserad.core.auth.engine import Engine
from tesserad.core.auth.request import AuthRequest, AuthResult
from tesserad.core.errors import TesseraError
from tesserad.core.store import Database


class AuthService:
    def __init__(self, database: Database, engine: Engine, auditor: Auditor):
        self.database = database
        self.engine = engine
        self.auditor = auditor

    def authenticate(self, req: AuthRequest, action: str = "POST /validate/check") -> AuthResult:
        started = time.monotonic()
        with self.database.session() as session:
            try:
                result = self.engine.check(session, req)
            except TesseraError as exc:
                session.rollback()
                self._audit_error(req, action, exc, started)
                raise
            user = result.user
            self.auditor.record(
                session, action=action, success=result.accepted, started=started,
                authentication=result.outcome.value, info=result.message,
                serial=result.serial or ",".join(c.serial for c in result.challenges),
                token_type=result.token_type or "", user=user.login if user else "",
                realm=user.realm if user else "", resolver=user.resolver if user else "",
                client=req.client, user_agent=req.user_agent, action_detail=req.nas,
                policies=",".join(result.decided_by))
            session.commit()
            return result

    def _audit_error(self, req: AuthRequest, action: str, exc: TesseraError, started: float) -> None:
        with self.database.session() as session:
            self.auditor.record(session, action=action, success=False, started=started, info=str(exc),
                                user=(req.user or "")[:255], realm=(req.realm or "")[:255],
                                serial=(req.serial or "")[:255], client=req.client, user_agent=req.user_agent,
                                action_detail=req.nas)
            session.commit()

    def poll(self, transaction_id: str) -> bool:
        """``/validate/polltransaction``: no fail counter, no audit of the secret."""
        if not challenges.is_transaction_id(transaction_id):
            return False
        with self.database.session() as session:
            return challenges.answered(session, transaction_id, utc_datetime(self.engine.clock))

    def saml_attributes(self, result: AuthResult) -> dict[str, Any]:
        """The user's attributes for ``/validate/samlcheck``, as the system settings allow."""
        user = result.user
        if user is None or not user.exists:
            return {}
        with self.database.session() as session:
            settings = self.engine.sysconfig.settings(session)
            if not settings.ReturnSamlAttributes or not (result.accepted or settings.ReturnSamlAttributesOnFail):
                return {}
            info = self.engine.directory.user_info(session, user)
        return {**info, "realm": user.realm, "resolver": user.resolver}
