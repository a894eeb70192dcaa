"""Response times of failed logins against a real tesserad: an unknown user, a wrong
password and a wrong OTP take the same time at ``POST /auth`` and ``/validate/check``
(security issue 27: the argon2 decoy of an unknown user used to cost far more than a wrong
password). argon2 is set so that the decoy and a hashed PIN cost clearly more than the
user-store check and an OTP check (without the floor the medians differ by 40-100 %); the
floor hides the difference. It is set well above those costs, as the README asks: on a
loaded machine four concurrent argon2 checks take several times their idle cost.

Robust on a shared machine: the three kinds are interleaved (each round sends them in a
rotated order), several clients run at once (the floor holds no thread), and medians are
compared, each within 10 % of the others.
"""

from __future__ import annotations

import http.client
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from passlib.hash import sha512_crypt

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, write_config
from tests.provision import provision
from tests.wired import RFC4226, RFC_SEED_HEX

FLOOR_MS = 150
TRIES = 200
CLIENTS = 4
PASSWORD = "alice-pw-1"
# Each failure kind: (path, form).
AUTH = {"unknown user": {"username": "nobody", "password": PASSWORD},
        "wrong password": {"username": "alice", "password": "not-" + PASSWORD},
        "wrong OTP": {"username": "bob", "password": "1234000000"}}
VALIDATE = {"unknown user": {"user": "nobody", "pass": "1234" + RFC4226[0]},
            "wrong password": {"user": "alice", "pass": "9999" + RFC4226[0]},  # wrong PIN, right OTP
            "wrong OTP": {"user": "bob", "pass": "1234000000"}}


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    passwd = tmp_path / "passwd"
    passwd.write_text("".join(f"{name}:{sha512_crypt.using(rounds=1000).hash(PASSWORD)}:{uid}:{uid}::/:/bin/sh\n"
                              for name, uid in (("alice", 1000), ("bob", 1001))))
    data = daemon_config(tmp_path, database={"url": f"sqlite:///{tmp_path / 'timing.db'}"},
                         web={"failure_floor_ms": FLOOR_MS, "login_failures_per_user": 100_000,
                              "login_failures_per_client": 100_000},
                         security={"argon2_time_cost": 1, "argon2_memory_cost": 8192})
    config = write_config(tmp_path, data)
    provision(config, passwd, [{"user": name, "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "1234"}
                               for name in ("alice", "bob")],
              system={"DefaultMaxFailCount": 100_000},
              policies={"bob-tokens": {"scope": "webui", "action": "login_mode=privacyIDEA", "user": "bob"}})
    daemon = DaemonProcess(tmp_path / "run", config).start()
    try:
        yield int(data["web"]["listen"][0].split(":")[1])
    finally:
        daemon.stop()
        daemon.close()


def timed(port: int, path: str, kinds: dict[str, dict[str, str]], rounds: int) -> dict[str, list[float]]:
    """One client: ``rounds`` rounds of every kind, in a rotated order, on one keep-alive connection."""
    names = list(kinds)
    times: dict[str, list[float]] = {name: [] for name in names}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for number in range(rounds):
            for name in names[number % 3:] + names[:number % 3]:
                body = urlencode(kinds[name])
                started = time.perf_counter()
                connection.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
                response = connection.getresponse()
                response.read()
                times[name].append(time.perf_counter() - started)
                assert response.status in (200, 400, 401), (name, response.status)
    finally:
        connection.close()
    return times


def medians(port: int, path: str, kinds: dict[str, dict[str, str]]) -> dict[str, float]:
    timed(port, path, kinds, 2)  # warm up: caches, the decoy hash, connections
    with ThreadPoolExecutor(CLIENTS) as pool:
        parts = list(pool.map(lambda _: timed(port, path, kinds, TRIES // CLIENTS), range(CLIENTS)))
    return {name: statistics.median([t for part in parts for t in part[name]]) for name in kinds}


@pytest.mark.parametrize("path, kinds", [("/auth", AUTH), ("/validate/check", VALIDATE)], ids=["auth", "validate"])
def test_failures_take_the_same_time(port: int, path: str, kinds: dict[str, dict[str, str]]) -> None:
    found = medians(port, path, kinds)
    print(path, {name: f"{value * 1000:.1f} ms" for name, value in found.items()})
    assert min(found.values()) >= FLOOR_MS / 1000, found
    assert max(found.values()) <= 1.10 * min(found.values()), found
