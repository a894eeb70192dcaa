"""The bounded thread pool that runs the synchronous core, and waits for it on shutdown.

The reactor thread never runs SQL, hashing or user-store calls: edges hand them to
``CoreExecutor.run``, which returns a Deferred. On stop, work already accepted gets
``grace`` seconds to finish before the pool is torn down.

A fixed set of threads on one queue: every request crosses to a thread and back, and
Twisted's general-purpose ThreadPool (team coordinator, worker objects, context
propagation) spends about a third more CPU per crossing than this does.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IReactorThreads, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

T = TypeVar("T")
Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], Deferred[Any]]


class CoreExecutor(Service):
    log = Logger()

    def __init__(self, reactor: IReactorThreads, size: int, grace: float):
        self._reactor = reactor
        self._size = size
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._grace = grace
        self._in_flight: set[Deferred[Any]] = set()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def startService(self) -> None:
        super().startService()
        for index in range(self._size):
            thread = threading.Thread(target=self._work, name=f"tesserad-core-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, args, kwargs, d = job
            try:
                result = fn(*args, **kwargs)
            except BaseException:
                self._reactor.callFromThread(d.errback, Failure())
            else:
                self._reactor.callFromThread(d.callback, result)
            del job, d  # do not keep the last request's objects alive while idle

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        d: Deferred[T] = Deferred()
        self._in_flight.add(d)

        def done(result: Any) -> Any:
            self._in_flight.discard(d)
            return result
        d.addBoth(done)
        self._jobs.put((fn, args, kwargs, d))
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
                self._stop_threads()
                done.callback(None)

        def give_up() -> None:
            # Leave the stuck (daemon) threads behind rather than join them.
            self.log.warn("shutdown grace expired with {count} requests still running",
                          count=self.in_flight)
            done.callback(None)

        timer = clock.callLater(self._grace, give_up)
        DeferredList([_quiet(d) for d in pending]).addCallback(drained)
        return done

    def _stop_threads(self) -> None:
        """Idle threads end at once; none is running work when this is called."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []


def _quiet(d: Deferred[Any]) -> Deferred[Any]:
    """A Deferred that fires when ``d`` does, without taking over its result."""
    waiter: Deferred[Any] = Deferred()

    def fire(result: Any) -> Any:
        waiter.callback(None)
        return result
    d.addBoth(fire)
    return waiter
