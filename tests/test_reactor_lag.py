"""The reactor-lag probe on a clock moved by hand: a stall shows as lateness of the probe,
the longest one stays in /healthz for a minute, and one over the threshold is logged once."""

from __future__ import annotations

import json
from typing import Any

from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.logger import Logger
from twisted.trial.unittest import TestCase

from tesserad.admin_web.health import Health
from tesserad.admin_web.site import Root, build_site
from tesserad.daemon.reactor_lag import PROBE_INTERVAL, REPORT_EVERY, WINDOW, ReactorLag

from tests.helpers import run_inline


def probe(warn_ms: int = 100) -> tuple[Clock, ReactorLag, list[dict[str, Any]]]:
    clock, events = Clock(), []
    lag = ReactorLag(clock, warn_ms)
    lag.log = Logger(observer=events.append)
    lag.startService()
    return clock, lag, events


def stall(clock: Clock, seconds: float) -> None:
    """The reactor thread busy for ``seconds``: time passes before the due probe may run."""
    clock.advance(PROBE_INTERVAL + seconds)


def idle(clock: Clock, seconds: float) -> None:
    clock.pump([PROBE_INTERVAL] * round(seconds / PROBE_INTERVAL))


class ReactorLagTests(TestCase):
    def test_an_idle_reactor_has_no_lag(self) -> None:
        clock, lag, events = probe()
        idle(clock, 5)
        self.assertEqual(lag.health(), {"max_lag_ms_1m": 0.0})
        self.assertEqual(events, [])

    def test_the_longest_stall_of_the_last_minute_is_kept_then_forgotten(self) -> None:
        clock, lag, _ = probe()
        stall(clock, 0.5)
        idle(clock, 1)
        stall(clock, 0.2)
        idle(clock, 1)
        self.assertEqual(lag.max_lag_ms(), 500.0)
        idle(clock, WINDOW - 2)
        self.assertEqual(lag.max_lag_ms(), 200.0)  # the 500 ms stall is more than a minute old
        idle(clock, 2)
        self.assertEqual(lag.max_lag_ms(), 0.0)

    def test_a_stall_over_the_threshold_is_one_warning_line_with_its_figures(self) -> None:
        clock, lag, events = probe(warn_ms=100)
        stall(clock, 0.08)
        self.assertEqual(events, [])
        stall(clock, 0.3)
        stall(clock, 0.15)  # within REPORT_EVERY: counted, not logged
        self.assertEqual(len(events), 1)
        self.assertEqual((events[0]["lag_ms"], events[0]["threshold_ms"], events[0]["stalls"]), (300, 100, 1))
        idle(clock, REPORT_EVERY)
        stall(clock, 0.12)
        self.assertEqual(len(events), 2)
        self.assertEqual((events[1]["lag_ms"], events[1]["stalls"], events[1]["max_lag_ms_1m"]), (120, 2, 300.0))

    def test_threshold_zero_never_warns(self) -> None:
        clock, lag, events = probe(warn_ms=0)
        stall(clock, 2)
        self.assertEqual((events, lag.max_lag_ms()), ([], 2000.0))

    def test_stopping_cancels_the_probe(self) -> None:
        clock, lag, _ = probe()
        lag.stopService()
        self.assertEqual(clock.getDelayedCalls(), [])


class HealthzShowsTheLagTests(TestCase):
    async def test_healthz_reports_the_answering_process_lag(self) -> None:
        clock, lag, _ = probe()
        stall(clock, 0.25)
        client = StubTreq(build_site(Root(Health(run_inline, lambda: None, lag.health))).resource)
        response = await client.get("http://localhost/healthz")
        body = json.loads(await response.content())
        self.assertEqual((response.code, body["status"], body["reactor"]), (200, "ok", {"max_lag_ms_1m": 250.0}))
