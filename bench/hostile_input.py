#!/usr/bin/env python3
"""Hostile request bodies: what each costs the server, and how long it holds the reactor thread.

For each input kind of tests.hostile_bodies (the worst bodies the HTTP limits admit, each at
the 1 MiB body limit) and a small ordinary login as the baseline, it starts a fresh
throw-away tesserad (the shipped defaults: one worker, 16 threads; flat-file realm, one
HOTP token per user), sends the body --count times, one request at a time on a new
connection, and prints the answer statuses, the client's latency and the server's CPU per
request. Then it sends them --count times again while another client asks GET /healthz
every 5 ms, and prints that client's worst latency (every client of the process waits as
long as a body holds the reactor thread), and the daemon's own figure for the longest stall
(``reactor.max_lag_ms_1m`` of /healthz; its probe runs every 50 ms, so it sees only stalls
that span one of its due times). A fresh daemon per kind keeps one kind's stall out of the
next kind's figures. Loopback only; not part of the test suite.

    .venv/bin/python bench/hostile_input.py --count 50
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from validate_load import PIN, collector_paused, process_cpu, provision_users  # noqa: E402

from tests.daemon_process import DaemonProcess  # noqa: E402
from tests.hostile_bodies import HOSTILE, Body  # noqa: E402

BASELINE = "baseline: small form"
PROBE_PACE = 0.005


def baseline_body() -> Body:
    return "application/x-www-form-urlencoded", f"user=user0&pass={PIN}000000".encode()


@dataclass
class Row:
    kind: str
    statuses: Counter[int | str]
    latencies: list[float]
    cpu_per_request: float
    probes: list[float] = field(default_factory=list)
    lag: float = 0.0

    def line(self) -> str:
        statuses = ", ".join(f"{status} x{n}" for status, n in sorted(self.statuses.items(), key=str))
        return (f"| {self.kind} | {statuses} | {ms(self.latencies)} | {1000 * self.cpu_per_request:.1f} | "
                f"{ms(self.probes)} | {self.lag:.1f} |")


def ms(values: list[float]) -> str:
    """Median / max in milliseconds."""
    return f"{1000 * statistics.median(values):.1f} / {1000 * max(values):.1f}" if values else "-"


def send(port: int, path: str, content_type: str, body: bytes) -> tuple[int | str, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    try:
        connection.request("POST", path, body, {"Content-Type": content_type})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    except OSError as exc:
        return type(exc).__name__, time.perf_counter() - started
    finally:
        connection.close()


def healthz(connection: http.client.HTTPConnection) -> tuple[float, float]:
    """One GET /healthz: its latency and the reactor's longest lag of the last minute (ms)."""
    started = time.perf_counter()
    connection.request("GET", "/healthz")
    body = json.loads(connection.getresponse().read())
    return time.perf_counter() - started, float(body["reactor"]["max_lag_ms_1m"])


@contextmanager
def probing(port: int) -> Iterator[list[float]]:
    """Another client asking /healthz every PROBE_PACE seconds while the block runs."""
    latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while not done.wait(PROBE_PACE):
            latencies.append(healthz(connection)[0])
        connection.close()

    thread = threading.Thread(target=probe)
    thread.start()
    try:
        yield latencies
    finally:
        done.set()
        thread.join()


def measure(workdir: Path, config: Path, port: int, kind: str, body: Body, path: str, count: int) -> Row:
    daemon = DaemonProcess(workdir / f"run-{len(list(workdir.glob('run-*')))}", config).start()
    try:
        row = Row(kind, Counter(), [], 0.0)
        cpu_before = process_cpu(daemon.proc.pid)  # type: ignore[union-attr]
        with collector_paused():
            for _ in range(count):
                status, latency = send(port, path, *body)
                row.statuses[status] += 1
                row.latencies.append(latency)
        cpu_after = process_cpu(daemon.proc.pid)  # type: ignore[union-attr]
        row.cpu_per_request = (sum(cpu_after) - sum(cpu_before)) / count
        with collector_paused(), probing(port) as row.probes:
            for _ in range(count):
                row.statuses[send(port, path, *body)[0]] += 1
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        row.lag = healthz(connection)[1]
        connection.close()
    finally:
        daemon.stop()
        daemon.close()
    return row


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=50, help="requests per input kind, twice (alone, then probed)")
    p.add_argument("--path", default="/validate/check", help="endpoint that gets the bodies (e.g. /auth)")
    p.add_argument("--kinds", nargs="*", choices=sorted(HOSTILE), default=sorted(HOSTILE),
                   help="input kinds (default: all)")
    p.add_argument("--threads", type=int, default=16, help="server.threads")
    p.add_argument("--workers", type=int, default=1, help="server.workers")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    args = p.parse_args()
    args.users, args.pin = 4, "encrypted"

    rows = []
    with tempfile.TemporaryDirectory(prefix="tesserad-bench-") as tmp:
        workdir = Path(tmp)
        config, data = provision_users(workdir, args)
        port = int(data["web"]["listen"][0].split(":")[1])
        bodies = {BASELINE: baseline_body(), **{kind: HOSTILE[kind]() for kind in args.kinds}}
        for kind, body in bodies.items():
            print(f"{kind}: {args.count} x POST {args.path} ({len(body[1]):,} bytes) ...", file=sys.stderr, flush=True)
            rows.append(measure(workdir, config, port, kind, body, args.path, args.count))
    print(f"POST {args.path}, 2 x {args.count} requests per kind, one at a time; server.workers {args.workers}, "
          f"server.threads {args.threads}")
    print("| input | statuses | latency median / max ms | server CPU per request ms | "
          "other client's /healthz median / max ms | reactor max lag ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(row.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
