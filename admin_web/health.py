"""``GET /healthz``: is the process up, which version, can it reach its database, and how
long its reactor thread was busy at most in the last minute.

For load balancers and monitoring. It answers 503 when the database is unreachable, so a
balancer takes a node out of rotation whose store is gone. The reactor's lag is a figure for
the operator, not a verdict: a long lag (every client of this process waited) does not take
the node out. With several worker processes, the figures are those of the worker that answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.web.iweb import IRequest

from tesserad import __version__
from tesserad.admin_web.responses import json_body
from tesserad.core.errors import DatabaseError

Runner = Callable[..., Deferred[Any]]


class Health:
    """Mounted at ``/healthz`` by the site root."""

    log = Logger()

    def __init__(self, run: Runner, ping: Callable[[], None],
                 reactor: Callable[[], dict[str, Any]] | None = None):
        self._run = run
        self._ping = ping
        self._reactor = reactor

    async def healthz(self, request: IRequest) -> bytes:
        database: dict[str, Any] = {"reachable": True}
        try:
            await self._run(self._ping)
        except DatabaseError as exc:
            self.log.warn("health check: {reason}", reason=str(exc))
            database = {"reachable": False, "error": str(exc)}
        ok = database["reachable"]
        body = {"status": "ok" if ok else "unavailable", "version": __version__, "database": database}
        if self._reactor is not None:
            body["reactor"] = self._reactor()
        return json_body(request, 200 if ok else 503, body)
