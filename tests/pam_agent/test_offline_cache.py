"""The agent's offline cache on its own: file format and mode, burning, the window, and
concurrent writers (two cache objects stand for two worker processes: only flock joins them)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tesserad.core.errors import ConfigError
from tesserad.core.machines import pbkdf2
from tesserad.daemon import config as configuration
from tesserad.pam_module.offline_cache import OfflineCache


def bag(counters: range, pin: str = "pin") -> dict[str, str]:
    return {str(c): pbkdf2.hash_value(f"{pin}{c:06d}", 1) for c in counters}


def test_store_check_burn(tmp_path: Path) -> None:
    cache = OfflineCache(tmp_path / "offline")
    assert not cache.has_values("alice") and cache.check("alice", "pin000001") is None
    assert cache.store("alice", [{"serial": "S1", "refilltoken": "r1", "response": bag(range(1, 13))},
                                 {"serial": "S2", "response": None}]) == 1
    (path,) = (tmp_path / "offline").glob("*.json")
    assert path.stat().st_mode & 0o777 == 0o600 and (tmp_path / "offline").stat().st_mode & 0o777 == 0o700
    assert "alice" not in path.name and json.loads(path.read_text())["user"] == "alice"
    assert cache.check("bob", "pin000003") is None
    assert cache.check("alice", "pin000011") is None  # beyond the window of the 10 lowest
    match = cache.check("alice", "pin000003")
    assert match is not None and (match.serial, match.counter, match.refilltoken, match.remaining) == ("S1", 3, "r1", 9)
    for used in ("pin000003", "pin000002", "xxx000004"):
        assert cache.check("alice", used) is None
    assert cache.check("alice", "pin000011") is not None  # now in the window
    assert cache.refilled("alice", "S1", {"refilltoken": "r2", "response": bag(range(13, 15))}) == 3
    assert cache.check("alice", "pin000014").refilltoken == "r2"  # type: ignore[union-attr]
    assert not list((tmp_path / "offline").glob(".tmp-*"))


def test_malformed_serial_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        OfflineCache(tmp_path).store("alice", [{"serial": "../../etc/x", "response": {"1": "h"}}])
    assert not list(tmp_path.rglob("*.json"))


def test_two_writers_lose_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "offline"
    first, second = OfflineCache(directory), OfflineCache(directory)
    first.store("alice", [{"serial": "S1", "refilltoken": "r", "response": bag(range(0, 20))}])
    accepted: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(3)

    def consume(cache: OfflineCache, name: str) -> None:
        start.wait()
        for counter in range(20):
            match = cache.check("alice", f"pin{counter:06d}")
            if match is not None:
                accepted[name].append(match.counter)

    def refill(cache: OfflineCache) -> None:
        start.wait()
        for counter in range(100, 130):
            cache.refilled("alice", "S1", {"refilltoken": f"r{counter}", "response": bag(range(counter, counter + 1))})

    threads = [threading.Thread(target=consume, args=(first, "a")),
               threading.Thread(target=consume, args=(second, "b")),
               threading.Thread(target=refill, args=(second,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    used = accepted["a"] + accepted["b"]
    assert len(used) == len(set(used)) and len(used) >= 10  # every value at most once
    hashes = json.loads(next(directory.glob("*.S1.json")).read_text())["hashes"]
    assert set(range(100, 130)) <= {int(c) for c in hashes}  # no refill lost
    assert not {int(c) for c in hashes} & set(range(0, max(used) + 1))


def test_agent_config_keys(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[server]\ndata_dir = "/srv/t"\n[pam]\nupstream = "https://mfa.example.com"\n')
    pam = configuration.load(str(path), env={}).pam
    assert pam.offline_dir == "/srv/t/offline" and pam.upstream_timeout == 5 and pam.offline_refill_threshold == 20
    for bad in ('upstream = "http://mfa.example.com"', 'upstream = "https://"', "upstream_timeout = 0",
                "offline_refill_threshold = -1"):
        path.write_text(f"[pam]\n{bad}\n")
        with pytest.raises(ConfigError, match=r"pam\.(upstream|offline)"):
            configuration.load(str(path), env={})
