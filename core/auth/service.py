"""One authentication as a unit of work: a transaction, the engine's decision, an audit row.

Edges call ``authenticate`` from a worker thread. A request that the engine refuses
(unknown user, malformed input) rolls back everything it might have touched and is
audited in a fresh transaction before the error goes back to the edge.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from tesserad.core import proxies
from tesserad.core.audit import Auditor
from tesserad.core.auth import challenges
from tesserad.core.auth.engine import Engine
from tesserad.core.auth.passkey_login import PasskeyAnswer, PasskeyLogin
from tesserad.core.auth.request import AuthRequest, AuthResult, Outcome
from tesserad.core.clock import utc_datetime
from tesserad.core.errors import DatabaseUnavailable, TesseraError
from tesserad.core.store import Database


def audit_detail(nas: str, attributes: Mapping[str, str]) -> str:
    """The audit row's action_detail: the NAS or host, then the edge's extra attributes
    (e.g. the RADIUS client name and Calling-Station-Id)."""
    return " ".join([nas, *(f"{key}={value}" for key, value in attributes.items())]).strip()


# An edge's admission check (api_key_required), run in the authentication's transaction; the
# edge passes it without holding a session of its own.
Gate = Callable[[Session, AuthRequest], None]


class AuthService:
    def __init__(self, database: Database, engine: Engine, auditor: Auditor):
        self.database = database
        self.engine = engine
        self.auditor = auditor
        self.passkeys = PasskeyLogin(engine)

    def authenticate(self, req: AuthRequest, action: str = "POST /validate/check",
                     gate: Gate | None = None) -> AuthResult:
        """``gate`` (the edge's admission check, e.g. api_key_required) runs first in the
        same transaction; its refusal is audited like the engine's."""
        return self._decided(req, action, gate, self.engine.check)

    def _decided(self, req: AuthRequest, action: str, gate: Gate | None,
                 decide: Callable[[Session, AuthRequest], AuthResult]) -> AuthResult:
        """Run ``decide`` in one transaction behind the gate; audit the result or the refusal."""
        started = time.monotonic()
        with self.database.session() as session:
            req = self._behind_proxies(session, req)
            try:
                if gate is not None:
                    gate(session, req)
                result = decide(session, req)
            except TesseraError as exc:
                session.rollback()
                if not isinstance(exc, DatabaseUnavailable):  # the audit trail lives there too
                    self._audit_error(req, action, exc, started)
                raise
            return self._recorded(session, req, action, result, started)

    def _recorded(self, session: Session, req: AuthRequest, action: str, result: AuthResult,
                  started: float) -> AuthResult:
        """Audit the decision and commit (a refused right value stays used up); then raise
        the authorization refusal, if any."""
        user, refusal = result.user, result.refusal
        self.auditor.record(
            session, action=action, success=result.accepted and refusal is None, started=started,
            authentication=Outcome.REJECT.value if refusal else result.outcome.value,
            info=str(refusal) if refusal else result.message,
            serial=result.serial or ",".join(c.serial for c in result.challenges),
            token_type=result.token_type or "", user=user.login if user else "",
            realm=user.realm if user else "", resolver=user.resolver if user else "",
            client=req.client, user_agent=req.user_agent, action_detail=audit_detail(req.nas, req.attributes),
            policies=",".join(result.decided_by))
        session.commit()
        if refusal is not None:
            raise refusal
        return result

    def _behind_proxies(self, session: Session, req: AuthRequest) -> AuthRequest:
        """``req`` with the client address that trusted proxies speak for (policies and
        the audit see that one)."""
        if not (req.forwarded or req.claimed_client):
            return req
        rules = self.engine.sysconfig.settings(session).OverrideAuthorizationClient
        return dataclasses.replace(req, client=proxies.effective_client(req.client, req.forwarded,
                                                                        req.claimed_client, rules))

    def refuse(self, req: AuthRequest, action: str, exc: TesseraError) -> None:
        """Audit a request its edge refused before it became an authentication (malformed
        parameters): ``req`` holds what the connection told (client, user agent)."""
        self._audit_error(req, action, exc, time.monotonic())

    def _audit_error(self, req: AuthRequest, action: str, exc: TesseraError, started: float) -> None:
        self.record(action, False, started=started, info=str(exc), user=(req.user or "")[:255],
                    realm=(req.realm or "")[:255], serial=(req.serial or "")[:255], client=req.client,
                    user_agent=req.user_agent, action_detail=audit_detail(req.nas, req.attributes))

    def record(self, action: str, success: bool, *, started: float | None = None, **fields: Any) -> None:
        """One audit row in its own transaction, for what an edge answered without an
        authentication (a refused request, a RADIUS Accounting-Request): edges open no
        session of their own."""
        with self.database.session() as session:
            self.auditor.record(session, action=action, success=success, started=started, **fields)
            session.commit()

    def trigger_challenges(self, session: Session, req: AuthRequest) -> AuthResult:
        """``/validate/triggerchallenge`` in the caller's transaction (see Engine.trigger)."""
        return self.engine.trigger(session, req)

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

    # ---- usernameless passkey login (core/auth/passkey_login.py) ----------------------------

    def passkey_initialize(self, req: AuthRequest, token_type: str,
                           action: str = "POST /validate/initialize") -> dict[str, Any]:
        """``/validate/initialize``: open a challenge for no user (audited)."""
        started = time.monotonic()
        with self.database.session() as session:
            req = self._behind_proxies(session, req)
            try:
                challenge = self.passkeys.initialize(session, req, token_type)
            except TesseraError as exc:
                session.rollback()
                self._audit_error(req, action, exc, started)
                raise
            self.auditor.record(session, action=action, success=True, started=started,
                                authentication=Outcome.CHALLENGE.value, info="passkey challenge",
                                token_type="passkey", client=req.client, user_agent=req.user_agent,
                                action_detail=f"transaction_id: {challenge['transaction_id']}")
            session.commit()
            return challenge

    def passkey_login(self, req: AuthRequest, answer: PasskeyAnswer, action: str = "POST /validate/check",
                      gate: Gate | None = None) -> AuthResult:
        """The answer to a passkey challenge, which names the user by its credential."""
        return self._decided(req, action, gate, lambda session, checked: self.passkeys.login(session, checked, answer))
