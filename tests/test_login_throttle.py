"""The login rate limit on SQLite and PostgreSQL: windows, give-back, and concurrent attempts
from many threads (standing in for processes) never getting past the limit."""

from __future__ import annotations

import threading

from tesserad.core.clock import FixedClock
from tesserad.core.login_throttle import CLIENT, USER, Budget, LoginThrottle
from tesserad.core.store import Database


def test_budget_window_and_give_back(db: Database) -> None:
    clock = FixedClock()
    throttle = LoginThrottle(db, clock)
    alice, net = Budget(USER, "alice@example", 2), Budget(CLIENT, "10.0.0.1", 3)
    assert throttle.take([alice, net], 60) and throttle.take([alice, net], 60)
    assert not throttle.take([alice, net], 60)  # alice used up; the client's third unit is taken
    assert not throttle.take([Budget(USER, "bob@example", 2), net], 60)  # now the client is too
    clock.advance(60)
    assert throttle.take([alice, net], 60)  # a new window for both
    throttle.give_back([alice, net])
    assert throttle.take([alice], 60) and throttle.take([alice], 60)  # alice's failures were forgiven


def test_concurrent_attempts_never_pass_the_limit(db: Database) -> None:
    throttle = LoginThrottle(db, FixedClock())
    throttle.take([Budget(USER, "warm-up", 1)], 60)  # the table exists before the race
    start = threading.Barrier(8)
    granted: list[bool] = []

    def attempt() -> None:
        start.wait()
        granted.append(throttle.take([Budget(USER, "victim@example", 5)], 60))

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(granted) == [False] * 3 + [True] * 5
