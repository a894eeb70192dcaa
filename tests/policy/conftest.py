"""Policy fixtures: a clock fixed at a known local time, migrated databases, and a helper
that turns plain dicts into a policy snapshot without a database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tesserad.core.clock import FixedClock
from tesserad.core.policy import PolicySet, build_policy

# Wednesday 10 January 2024, noon, in the local time zone the engine evaluates `time` in.
WEDNESDAY_NOON = datetime(2024, 1, 10, 12, 0)


def local(year: int, month: int, day: int, hour: int, minute: int) -> float:
    """The epoch time of a local wall-clock time, for FixedClock.set()."""
    return datetime(year, month, day, hour, minute).timestamp()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(WEDNESDAY_NOON.timestamp())


def snapshot(clock: FixedClock, policies: dict[str, dict[str, Any]]) -> PolicySet:
    return PolicySet([build_policy(name, fields) for name, fields in policies.items()], clock)
