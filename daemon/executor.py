"""The bounded thread pool that runs the synchronous core, and waits for it on shutdown.

The reactor thread never runs SQL, hashing or user-store calls: edges hand them to
``CoreExecutor.run``, which returns a Deferred. On stop, work already accepted gets
``grace`` seconds to finish before the pool is torn down.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IReactorThreads, IReactorTime
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

T = TypeVar("T")


class CoreExecutor(Service):
    log = Logger()

    def __init__(self, reactor: IReactorThreads, size: int, grace: float):
        self._reactor = reactor
        self._pool = ThreadPool(minthreads=0, maxthreads=size, name="tesserad-core")
        self._pool.threadFactory = _daemon_thread
        self._grace = grace
        self._in_flight: set[Deferred[Any]] = set()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def startService(self) -> None:
        super().startService()
        self._pool.start()

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        d = deferToThreadPool(self._reactor, self._pool, fn, *args, **kwargs)
        self._in_flight.add(d)

        def done(result: Any) -> Any:
            self._in_flight.discard(d)
            return result
        d.addBoth(done)
        return d

    def stopService(self) -> Deferred[None]:
        super().stopService()
        pending = list(self._in_flight)
        if pending:
            self.log.info("waiting up to {grace}s for {count} in-flight requests",
                          grace=self._grace, count=len(pending))
        done: Deferred[None] = Deferred()
        clock: IReactorTime = self._reactor  # type: ignore[assignment]

        def drained(_: Any) -> None:
            if timer.active():
                timer.cancel()
                self._pool.stop()
                done.callback(None)

        def give_up() -> None:
            # Leave the stuck (daemon) threads behind rather than join them.
            self.log.warn("shutdown grace expired with {count} requests still running",
                          count=self.in_flight)
            done.callback(None)

        timer = clock.callLater(self._grace, give_up)
        DeferredList([_quiet(d) for d in pending]).addCallback(drained)
        return done


def _daemon_thread(*args: Any, **kwargs: Any) -> threading.Thread:
    thread = threading.Thread(*args, **kwargs)
    thread.daemon = True
    return thread


def _quiet(d: Deferred[Any]) -> Deferred[Any]:
    """A Deferred that fires when ``d`` does, without taking over its result."""
    waiter: Deferred[Any] = Deferred()

    def fire(result: Any) -> Any:
        waiter.callback(None)
        return result
    d.addBoth(fire)
    return waiter
