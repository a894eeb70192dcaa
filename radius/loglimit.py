"""At most one log line per source and interval, so a flood of bad packets cannot flood
the log (and whoever reads it) too."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from tesserad.core.clock import Clock

INTERVAL_S = 60.0
# Sources remembered at once: spoofed addresses must not grow this without bound. When
# that many logged within one interval, further sources stay silent until it passes.
MAX_SOURCES = 4096


class LogLimiter:
    def __init__(self, clock: Clock, interval: float = INTERVAL_S, max_sources: int = MAX_SOURCES):
        self._clock = clock
        self._interval = interval
        self._max = max_sources
        self._last: OrderedDict[Hashable, float] = OrderedDict()

    def allow(self, source: Hashable) -> bool:
        """True if a line about ``source`` may be written now (and remember that it was)."""
        now = self._clock.now()
        while self._last and next(iter(self._last.values())) <= now - self._interval:
            self._last.popitem(last=False)
        if source in self._last or len(self._last) >= self._max:
            return False
        self._last[source] = now
        return True
