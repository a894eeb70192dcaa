"""``api_key_required`` (authorization scope): ``/validate/*`` answers only callers that
present an API key, a JWT with role ``validate`` from ``tesserad-manage api createtoken``.

Checked in the request's transaction before the engine runs, so a refused request is
audited like any other and touches no token. While no active policy sets the action (the
usual case) the check costs one look at the cached policy snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tesserad.core.auth.request import AuthRequest
from tesserad.core.policy.actions import AUTHZ
from tesserad.core.policy.matching import PolicyQuery
from tesserad.core.policy.store import PolicyStore
from tesserad.core.sessions import MISSING_RIGHT, VALIDATE, AuthError, Sessions
from tesserad.core.users.directory import Directory

ACTION = "api_key_required"


@dataclass(frozen=True)
class ApiKeyGate:
    store: PolicyStore
    directory: Directory
    sessions: Sessions
    node: str

    def required(self, session: Session, req: AuthRequest) -> bool:
        policies = self.store.snapshot(session)
        if not policies.mentions(AUTHZ, ACTION):
            return False
        user = self.directory.resolve(session, req.user, req.realm) if req.user else None
        return policies.get_bool(PolicyQuery(scope=AUTHZ, action=ACTION, user_object=user, client=req.client,
                                             node=self.node))[0]

    def check(self, headers: Mapping[str, str], session: Session, req: AuthRequest) -> None:
        """Raise AuthError (401) when the policy requires a key and ``headers`` carry none
        with role validate."""
        if not self.required(session, req):
            return
        identity = self.sessions.from_headers(headers)
        if identity.role != VALIDATE:
            raise AuthError("Authentication failure. An API key with the role validate is required.",
                            code=MISSING_RIGHT)
