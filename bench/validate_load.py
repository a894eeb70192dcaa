#!/usr/bin/env python3
"""HTTP load generator for POST /validate/check: successful PIN+HOTP logins per second.

It provisions a throw-away tesserad (flat-file realm, one HOTP token per user, PINs stored
with the chosen method), starts it on a free loopback port, and drives it with keep-alive
HTTP/1.1 connections, each worker logging in its own users with their next OTP values.
Bounded by --duration and --count; loopback only. Not part of the test suite.

    .venv/bin/python bench/validate_load.py --duration 10 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tesserad.core.tokens.oath import hotp  # noqa: E402

from tests.daemon_process import DaemonProcess  # noqa: E402
from tests.helpers import daemon_config, write_config  # noqa: E402
from tests.provision import provision  # noqa: E402

SEED = bytes(range(20))
PIN = "4711"


def process_cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process and its worker processes (Linux /proc):
    system time is where syscalls, thread wake-ups and the database's file I/O show."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    children = [process_cpu(int(c)) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) / tick + sum(c[0] for c in children), int(fields[12]) / tick + sum(c[1] for c in children))


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection in the load generator while it measures: a full pass would
    show as a latency spike of the server."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def cpu_line(before: tuple[float, float], after: tuple[float, float], requests: int) -> str:
    """Server CPU per request, and the part of it spent in the kernel."""
    user, system = (1000 * (b - a) / max(requests, 1) for a, b in zip(before, after, strict=True))
    return f"server CPU per request {user + system:.2f} ms ({system:.2f} ms of it in the kernel)"


def add_server_arguments(p: argparse.ArgumentParser) -> None:
    """The options of the throw-away server (what provision_users reads) and --duration."""
    p.add_argument("--users", type=int, default=256, help="users, one HOTP token each")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of load (upper bound)")
    p.add_argument("--pin", choices=("encrypted", "argon2"), default="encrypted",
                   help="PIN storage: encrypted (the cheapest check, spec policy encrypt_pin) or argon2id")
    p.add_argument("--threads", type=int, default=16, help="server.threads of each worker")
    p.add_argument("--workers", type=int, default=0, help="server.workers (0: one per core)")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in a temporary directory)")


def provision_users(workdir: Path, args: argparse.Namespace, **sections: Any) -> tuple[Path, dict[str, Any]]:
    """A throw-away daemon's config (extra ``sections`` merged in) and store: ``args.users``
    users with one HOTP token each (SEED, PIN stored per ``args.pin``)."""
    passwd = workdir / "passwd"
    passwd.write_text("".join(f"user{i}:x:{10000 + i}:100::/:/bin/false\n" for i in range(args.users)))
    data = daemon_config(workdir, log={"level": "warn"}, server={"threads": args.threads, "workers": args.workers},
                         **sections)
    if args.database_url:
        data["database"] = {"url": args.database_url}
    if args.pin == "argon2":
        data["security"] = {}  # the production argon2id defaults
    config = write_config(workdir, data)
    tokens = [{"user": f"user{i}", "type": "hotp", "otpkey": SEED.hex(), "pin": PIN,
               "encryptpin": "1" if args.pin == "encrypted" else "0"} for i in range(args.users)]
    provision(config, passwd, tokens)
    return config, data


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def worker(host: str, port: int, users: list[int], deadline: float, budget: list[int],
                 latencies: list[float], failures: list[str]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    counters = {u: 0 for u in users}
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            for user in users:
                if time.monotonic() >= deadline or budget[0] <= 0:
                    return
                budget[0] -= 1
                body = urlencode({"user": f"user{user}", "pass": PIN + hotp(SEED, counters[user])}).encode()
                counters[user] += 1
                request = (b"POST /validate/check HTTP/1.1\r\nHost: bench\r\n"
                           b"Content-Type: application/x-www-form-urlencoded\r\n"
                           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                started = time.monotonic()
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                payload = await reader.readexactly(length)
                latencies.append(time.monotonic() - started)
                if b" 200 " not in status_line or b'"value":true' not in payload:
                    failures.append((status_line + payload[:300]).decode(errors="replace"))
    finally:
        writer.close()


async def drive(url: str, users: int, concurrency: int, duration: float,
                count: int) -> tuple[list[float], list[str], float]:
    parts = urlsplit(url)
    latencies: list[float] = []
    failures: list[str] = []
    budget = [count]
    started = time.monotonic()
    deadline = started + duration
    groups = [list(range(i, users, concurrency)) for i in range(concurrency)]
    await asyncio.gather(*(worker(parts.hostname or "127.0.0.1", parts.port or 80, g, deadline, budget,
                                  latencies, failures) for g in groups if g))
    return latencies, failures, time.monotonic() - started


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(p)
    p.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    p.add_argument("--count", type=int, default=200_000, help="requests (upper bound)")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="tesserad-bench-") as tmp:
        workdir = Path(tmp)
        print(f"provisioning {args.users} users ...", flush=True)
        config, data = provision_users(workdir, args)
        daemon = DaemonProcess(workdir / "run", config).start()
        url = "http://127.0.0.1:" + data["web"]["listen"][0].split(":")[1]
        try:
            cpu_before, client_before = process_cpu(daemon.proc.pid), time.process_time()
            with collector_paused():
                latencies, failures, elapsed = asyncio.run(
                    drive(url, args.users, args.concurrency, args.duration, args.count))
            cpu_after = process_cpu(daemon.proc.pid)
            client_cpu = time.process_time() - client_before
        finally:
            daemon.stop()
            daemon.close()
    latencies.sort()
    ok = len(latencies) - len(failures)
    print(f"requests {len(latencies)}  successful logins {ok}  failures {len(failures)}  "
          f"in {elapsed:.1f}s  on {os.cpu_count()} cores")
    print(f"successful logins/s {ok / elapsed:.0f}")
    print("latency ms  p50 {:.1f}  p95 {:.1f}  p99 {:.1f}  max {:.1f}".format(
        *(1000 * percentile(latencies, f) for f in (0.50, 0.95, 0.99)), 1000 * (latencies[-1] if latencies else 0)))
    server_cpu = sum(cpu_after) - sum(cpu_before)
    print(f"{cpu_line(cpu_before, cpu_after, len(latencies))}, "
          f"{100 * server_cpu / elapsed:.0f}% of one core; load generator "
          f"{1000 * client_cpu / max(len(latencies), 1):.2f} ms ({100 * client_cpu / elapsed:.0f}%)")
    if failures:
        print("first failure:", failures[0])
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
