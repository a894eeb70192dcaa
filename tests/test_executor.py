"""The core thread pool: work runs off the reactor thread, and shutdown waits for it."""

from __future__ import annotations

import threading

from twisted.internet import reactor
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from tesserad.daemon.executor import CoreExecutor


class CoreExecutorTests(TestCase):
    def setUp(self) -> None:
        self.executor = CoreExecutor(reactor, size=2, grace=5)
        self.executor.startService()

    async def test_runs_in_a_worker_thread(self) -> None:
        name = await self.executor.run(lambda: threading.current_thread().name)
        self.assertNotEqual(name, threading.current_thread().name)
        self.assertEqual(self.executor.in_flight, 0)
        await self.executor.stopService()

    async def test_stop_waits_for_in_flight_work(self) -> None:
        release = threading.Event()
        started = threading.Event()

        def job() -> str:
            started.set()
            release.wait(30)
            return "done"

        result = self.executor.run(job)
        await self.executor.run(started.wait, 30)
        stopped = self.executor.stopService()
        self.assertFalse(stopped.called, "stop must wait for the running job")
        release.set()
        self.assertEqual(await result, "done")
        await stopped

    def test_stop_gives_up_after_the_grace_period(self):  # type: ignore[no-untyped-def]
        clock = Clock()
        clock.callFromThread = reactor.callFromThread  # type: ignore[attr-defined]
        executor = CoreExecutor(clock, size=1, grace=5)
        executor.startService()
        release = threading.Event()
        executor.run(release.wait, 30)
        stopped = executor.stopService()
        clock.advance(4.9)
        self.assertFalse(stopped.called)
        clock.advance(0.2)
        self.assertTrue(stopped.called)
        release.set()
        return self.executor.stopService()
