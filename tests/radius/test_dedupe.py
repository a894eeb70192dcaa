"""The duplicate cache and the log limiter, on a clock the tests move."""

from __future__ import annotations

from tesserad.core.clock import FixedClock
from tesserad.radius.dedupe import DuplicateCache, Seen
from tesserad.radius.loglimit import LogLimiter

KEY = ("127.0.0.1", 40000, 7, b"a" * 16)


def test_a_request_is_new_then_in_progress_then_answered_from_the_cache_for_the_window() -> None:
    clock = FixedClock()
    cache = DuplicateCache(clock, window=5)
    assert cache.begin(KEY) is Seen.NEW
    clock.advance(60)  # work may take longer than the window: still in progress
    assert cache.begin(KEY) is Seen.IN_PROGRESS
    cache.finish(KEY, b"reply")
    clock.advance(4.9)
    assert cache.begin(KEY) == b"reply"
    assert cache.begin(("127.0.0.1", 40000, 8, b"a" * 16)) is Seen.NEW  # another Identifier
    clock.advance(0.1)
    assert cache.begin(KEY) is Seen.NEW


def test_a_failed_request_is_forgotten_and_the_cache_is_bounded() -> None:
    clock = FixedClock()
    cache = DuplicateCache(clock, window=5, max_entries=2)
    assert cache.begin(KEY) is Seen.NEW
    cache.forget(KEY)
    assert cache.begin(KEY) is Seen.NEW
    assert cache.begin(("127.0.0.2", 1, 1, b"b" * 16)) is Seen.NEW
    assert cache.begin(("127.0.0.3", 1, 1, b"c" * 16)) is Seen.FULL
    cache.finish(KEY, b"r")
    assert cache.begin(("127.0.0.3", 1, 1, b"c" * 16)) is Seen.FULL  # an answer counts while kept
    clock.advance(5)
    assert cache.begin(("127.0.0.3", 1, 1, b"c" * 16)) is Seen.NEW  # the answered one expired


def test_the_log_limiter_allows_one_line_per_source_and_interval_and_is_bounded() -> None:
    clock = FixedClock()
    limiter = LogLimiter(clock, interval=60, max_sources=2)
    assert [limiter.allow("a"), limiter.allow("a"), limiter.allow("b"), limiter.allow("c")] == [
        True, False, True, False]
    clock.advance(59)
    assert limiter.allow("a") is False
    clock.advance(1)
    assert [limiter.allow("c"), limiter.allow("a")] == [True, True]
