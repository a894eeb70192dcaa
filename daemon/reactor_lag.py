"""How long the reactor thread was busy: the figure that shows one request stalling every edge.

Everything the daemon answers (HTTP, RADIUS, PAM) waits for the one reactor thread, so work
that holds it (parsing a hostile body, a blocking call that slipped in) delays every client
at once. A probe scheduled ``PROBE_INTERVAL`` seconds ahead on that reactor runs late by as
long as the thread was busy past the probe's due time; that lateness is the lag. A stall
that spans no due time goes unseen, so the figure holds every stall longer than the interval
(50 ms, about where clients notice) and some shorter ones, each up to one interval short. The
probe keeps the reactor's time (``seconds()``, the wall clock), as its scheduler does: a
forward step of the system clock shows as one lag of the step's size.

The longest lag of the last minute goes into ``GET /healthz``; a lag over the configured
threshold is logged as one warning line (at most one every ``REPORT_EVERY`` seconds, with the
count of further stalls since the last line). Each worker process has its own reactor and
its own figure.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from twisted.application.service import Service
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

PROBE_INTERVAL = 0.05
WINDOW = 60.0
REPORT_EVERY = 10.0


class ReactorLag(Service):
    """A probe on ``clock`` (the reactor, or ``task.Clock`` in tests) that keeps the longest
    lag of the last ``WINDOW`` seconds; ``warn_ms`` 0 turns the warning off."""

    log = Logger()

    def __init__(self, clock: IReactorTime, warn_ms: int):
        self._clock = clock
        self._warn = warn_ms / 1000
        # (time, lag) with lags strictly decreasing from the left: the left end is the
        # window's maximum, and each probe costs O(1) amortized.
        self._peaks: deque[tuple[float, float]] = deque()
        self._due = 0.0
        self._next: IDelayedCall | None = None
        self._stalls = 0
        self._reported = float("-inf")

    def startService(self) -> None:
        super().startService()
        self._schedule(self._clock.seconds())

    def stopService(self) -> None:
        super().stopService()
        if self._next is not None and self._next.active():
            self._next.cancel()
        self._next = None

    def _schedule(self, now: float) -> None:
        self._due = now + PROBE_INTERVAL
        self._next = self._clock.callLater(PROBE_INTERVAL, self._tick)

    def max_lag_ms(self) -> float:
        """The longest lag of the last minute, in milliseconds."""
        self._expire(self._clock.seconds())
        return round(self._peaks[0][1] * 1000, 1) if self._peaks else 0.0

    def health(self) -> dict[str, Any]:
        """This process's part of ``GET /healthz``."""
        return {"max_lag_ms_1m": self.max_lag_ms()}

    def _tick(self) -> None:
        now = self._clock.seconds()
        lag = max(0.0, now - self._due)
        self._schedule(now)
        while self._peaks and self._peaks[-1][1] <= lag:
            self._peaks.pop()
        self._peaks.append((now, lag))
        self._expire(now)
        if self._warn and lag > self._warn:
            self._stalls += 1
            if now - self._reported >= REPORT_EVERY:
                self._report(now, lag)

    def _expire(self, now: float) -> None:
        while self._peaks and self._peaks[0][0] <= now - WINDOW:
            self._peaks.popleft()

    def _report(self, now: float, lag: float) -> None:
        self.log.warn("the reactor thread was busy for {lag_ms} ms (threshold {threshold_ms} ms): "
                      "every HTTP, RADIUS and PAM client waited; {stalls} stall(s) over the threshold "
                      "since the last such line, longest in the last minute {max_lag_ms_1m} ms",
                      lag_ms=round(lag * 1000), threshold_ms=round(self._warn * 1000), stalls=self._stalls,
                      max_lag_ms_1m=self.max_lag_ms())
        self._stalls = 0
        self._reported = now
