"""A per-server circuit breaker for the LDAP resolver.

A directory server that refused a connection or let a request run into the timeout is
skipped for ``skip`` seconds, so that later logins do not each pay the timeout again
(privacyIDEA's ``SERVERPOOL_SKIP``). After that one request may try it again: success
closes the breaker, another failure opens it for the next period.
"""

from __future__ import annotations

import threading

from tesserad.core.clock import Clock


class CircuitBreaker:
    """Open/closed state of each server of one resolver; thread-safe."""

    def __init__(self, clock: Clock, skip: float) -> None:
        self._clock = clock
        self._skip = skip
        self._lock = threading.Lock()
        self._open_until: dict[str, float] = {}

    def available(self, server: str) -> bool:
        """Whether ``server`` may be tried now. A server whose period is over is handed
        to one caller (the others keep skipping it until that try has failed or not)."""
        with self._lock:
            until = self._open_until.get(server)
            if until is None:
                return True
            now = self._clock.now()
            if now < until:
                return False
            # Half open: this caller probes; the others skip it for one more period.
            self._open_until[server] = now + self._skip
            return True

    def failed(self, server: str) -> None:
        with self._lock:
            self._open_until[server] = self._clock.now() + self._skip

    def succeeded(self, server: str) -> None:
        with self._lock:
            self._open_until.pop(server, None)

    def is_open(self, server: str) -> bool:
        """Whether ``server`` is being skipped (for messages and tests)."""
        with self._lock:
            until = self._open_until.get(server)
            return until is not None and self._clock.now() < until
