"""Local mode: a PAM request decided by this daemon's own engine, like RADIUS and HTTP.

The engine runs in the core thread pool. What the engine refuses (an unknown user, a
policy, a misconfigured resolver) is a reject; what keeps it from deciding at all
(``Unavailable``: the database or a user store cannot be reached) is UNAVAILABLE, so the
module answers PAM_AUTHINFO_UNAVAIL and the stack can fall back instead of treating an
outage as a wrong password. An unexpected failure is UNAVAILABLE too, with its traceback
in the log.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from tesserad.core.auth.request import AuthRequest, Outcome
from tesserad.core.auth.service import AuthService
from tesserad.core.errors import TesseraError, Unavailable
from tesserad.pam_module.request import PamOutcome, PamReply, PamRequest

ACTION = "PAM authenticate"
Runner = Callable[..., Deferred[Any]]
OUTCOMES = {Outcome.ACCEPT: PamOutcome.ACCEPT, Outcome.REJECT: PamOutcome.REJECT,
            Outcome.CHALLENGE: PamOutcome.CHALLENGE}


def auth_request(request: PamRequest) -> AuthRequest:
    """The engine's request: the host as the NAS, rhost as the client address when it is one
    (policies match client addresses), the PAM service and tty for the audit trail."""
    attributes = {key: value for key, value in (("service", request.service), ("tty", request.tty)) if value}
    client = ""
    if request.rhost:
        try:
            client = str(ipaddress.ip_address(request.rhost))
        except ValueError:
            attributes["rhost"] = request.rhost
    return AuthRequest(password=request.password, user=request.user, realm=request.realm,
                       transaction_id=request.state, client=client, protocol="pam", nas=request.host,
                       attributes=attributes)


class LocalAuthenticator:
    log = Logger()

    def __init__(self, run: Runner, auth: AuthService):
        self._run = run
        self._auth = auth

    def authenticate(self, request: PamRequest) -> Deferred[PamReply]:
        return self._run(self._decide, request).addErrback(self._unavailable, request)

    def _decide(self, request: PamRequest) -> PamReply:
        """In the core thread pool."""
        try:
            result = self._auth.authenticate(auth_request(request), ACTION)
        except Unavailable:
            raise
        except TesseraError as exc:
            self.log.info("PAM login of {user!r} ({service}) rejected: {reason}", user=request.user,
                          service=request.service, reason=str(exc))
            return PamReply(PamOutcome.REJECT)
        if result.outcome is Outcome.CHALLENGE:
            return PamReply(PamOutcome.CHALLENGE, result.prompt, result.transaction_id)
        return PamReply(OUTCOMES[result.outcome])

    def _unavailable(self, failure: Failure, request: PamRequest) -> PamReply:
        if isinstance(failure.value, Unavailable):
            self.log.error("PAM login of {user!r} cannot be decided: {reason}", user=request.user,
                           reason=failure.getErrorMessage())
        else:
            self.log.failure("PAM login of {user!r} failed", failure, user=request.user)
        return PamReply(PamOutcome.UNAVAILABLE, "the authentication server cannot decide now")
