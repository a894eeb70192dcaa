"""Audit rows of the RADIUS edge that no authentication writes: Access-Requests refused before they
reach the engine (which audits everything else), and Accounting-Requests.

Runs in the core thread pool; the core writes them (AuthService.record), the edge opens no
session. The columns match the engine's rows: the NAS's source address as ``client``, its
NAS identity, client name and Calling-Station-Id as ``action_detail``.
"""

from __future__ import annotations

from tesserad.core.auth.service import AuthService, audit_detail
from tesserad.radius.access import ACTION, Origin

ACCOUNTING_ACTION = "RADIUS Accounting-Request"


class RadiusAudit:
    def __init__(self, auth: AuthService):
        self._auth = auth

    def refused(self, origin: Origin, user: str, reason: str) -> None:
        self._record(ACTION, False, origin, user, reason, authentication="REJECT")

    def accounting(self, origin: Origin, user: str, info: str) -> None:
        self._record(ACCOUNTING_ACTION, True, origin, user, info)

    def _record(self, action: str, success: bool, origin: Origin, user: str, info: str,
                authentication: str = "") -> None:
        self._auth.record(action, success, authentication=authentication, info=info, user=user[:255],
                          realm=origin.client.realm or "", client=origin.host,
                          action_detail=audit_detail(origin.nas, origin.attributes()))
