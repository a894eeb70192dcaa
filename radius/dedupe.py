"""Duplicate detection (RFC 5080 section 2.2.2): a NAS that does not hear back in time
sends the same request again, and it must not be processed twice (a second OTP check
would fail as a replay and count as a failure).

A request is known by (client address, client port, Identifier, Request Authenticator).
While it is being processed its retransmissions are dropped; once answered, they get the
same reply bytes for ``window`` seconds (FreeRADIUS' ``cleanup_delay``). The cache lives
in one process: with several workers the kernel sends one NAS address and port always
to the same worker (SO_REUSEPORT hashing), so its retransmissions meet their original.
"""

from __future__ import annotations

from collections import OrderedDict
from enum import Enum

from tesserad.core.clock import Clock

WINDOW_S = 5.0
# Requests in flight plus answers kept; beyond that new requests are refused (overload)
# rather than letting memory grow with the request rate.
MAX_ENTRIES = 65536

RequestKey = tuple[str, int, int, bytes]


class Seen(Enum):
    NEW = "new"
    IN_PROGRESS = "in progress"
    FULL = "full"


class DuplicateCache:
    def __init__(self, clock: Clock, window: float = WINDOW_S, max_entries: int = MAX_ENTRIES):
        self._clock = clock
        self._window = window
        self._max = max_entries
        self._pending: set[RequestKey] = set()
        # Answered requests in the order they were answered: (expiry, reply bytes).
        self._answered: OrderedDict[RequestKey, tuple[float, bytes]] = OrderedDict()

    def begin(self, key: RequestKey) -> Seen | bytes:
        """Register a request: NEW (process it), IN_PROGRESS (drop it), the cached reply
        (send it again), or FULL (drop it: too many requests at once)."""
        self._expire()
        if key in self._pending:
            return Seen.IN_PROGRESS
        answered = self._answered.get(key)
        if answered is not None:
            return answered[1]
        if len(self._pending) + len(self._answered) >= self._max:
            return Seen.FULL
        self._pending.add(key)
        return Seen.NEW

    def finish(self, key: RequestKey, reply: bytes) -> None:
        """Remember the reply that was sent for ``key``."""
        self._pending.discard(key)
        self._answered[key] = (self._clock.now() + self._window, reply)

    def forget(self, key: RequestKey) -> None:
        """The request got no reply: a retransmission is processed anew."""
        self._pending.discard(key)

    def _expire(self) -> None:
        now = self._clock.now()
        while self._answered and next(iter(self._answered.values()))[0] <= now:
            self._answered.popitem(last=False)
