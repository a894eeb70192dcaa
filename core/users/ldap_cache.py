"""The LDAP resolver's per-process cache: login -> uid and uid -> entry for ``CACHE_TIMEOUT``
seconds (privacyIDEA's per-process user cache), so that a login, its token lookup and the
audit row cost one directory search instead of several. Time comes from the injected
clock; the size is bounded so that a flood of unknown logins cannot grow it without end.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

from tesserad.core.clock import Clock

K = TypeVar("K")
V = TypeVar("V")
MISSING = object()  # what get() returns for an absent or expired key


class TtlCache(Generic[K, V]):
    """A thread-safe mapping whose entries expire ``ttl`` seconds after they were put;
    ``ttl <= 0`` turns it off. The oldest entries go first when ``max_entries`` is reached."""

    def __init__(self, clock: Clock, ttl: float, max_entries: int = 10_000) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._lock = threading.Lock()
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K, default: V | object = MISSING) -> V | object:
        """The cached value, or ``default`` (``MISSING`` unless given)."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return default
            if self._clock.now() >= item[0]:
                del self._items[key]
                return default
            return item[1]

    def put(self, key: K, value: V) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (self._clock.now() + self._ttl, value)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

