#!/usr/bin/env python3
"""HTTP load generator for WebAuthn logins: PIN -> challenge, then the signed assertion,
two /validate/check round trips per login, on keep-alive HTTP/1.1 connections.

It provisions a throw-away tesserad (flat-file realm, one WebAuthn token per user, registered
by the software authenticator of tests/softauthn.py, ES256), starts it on a free loopback port
and logs the users in. Without --rate each connection starts its next login when the last one
ended (throughput); with --rate the logins are offered at that many per second in total and
the latency counts from when a login was due (so a stalled server is not hidden). Bounded by
--duration and --count; loopback only. Not part of the test suite.

    .venv/bin/python bench/webauthn_login.py --duration 10 --concurrency 16
    .venv/bin/python bench/webauthn_login.py --duration 10 --concurrency 16 --rate 150
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from validate_load import (  # noqa: E402
    PIN,
    add_server_arguments,
    collector_paused,
    cpu_line,
    percentile,
    process_cpu,
)

from tesserad.core.context import Context  # noqa: E402
from tesserad.daemon import config as configuration  # noqa: E402

from tests.daemon_process import DaemonProcess  # noqa: E402
from tests.helpers import daemon_config, write_config  # noqa: E402
from tests.provision import provision  # noqa: E402
from tests.softauthn import SoftAuthenticator  # noqa: E402
from tests.webauthn.enrolled import ORIGIN, STEP_ONE, finish  # noqa: E402


def provision_webauthn(workdir: Path, args: argparse.Namespace) -> tuple[Path, dict[str, Any],
                                                                         dict[str, SoftAuthenticator]]:
    """A throw-away daemon's config and store: one registered WebAuthn token per user."""
    passwd = workdir / "passwd"
    passwd.write_text("".join(f"user{i}:x:{10000 + i}:100::/:/bin/false\n" for i in range(args.users)))
    data = daemon_config(workdir, log={"level": "warn"}, server={"threads": args.threads, "workers": args.workers})
    if args.database_url:
        data["database"] = {"url": args.database_url}
    if args.pin == "argon2":
        data["security"] = {}
    config = write_config(workdir, data)
    tokens = [{"user": f"user{i}", "serial": f"WAN{i:06d}", "pin": PIN,
               "encryptpin": "1" if args.pin == "encrypted" else "0", **STEP_ONE} for i in range(args.users)]
    provision(config, passwd, tokens)
    authenticators = {f"user{i}": SoftAuthenticator() for i in range(args.users)}
    ctx = Context.open(configuration.load(str(config), env={}))
    try:
        with ctx.database.session() as session:
            for i in range(args.users):
                finish(ctx.tokens.get(session, f"WAN{i:06d}"), authenticators[f"user{i}"])
            session.commit()
    finally:
        ctx.close()
    return config, data, authenticators


async def post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, params: dict[str, str]) -> dict[str, Any]:
    body = urlencode(params).encode()
    writer.write(b"POST /validate/check HTTP/1.1\r\nHost: bench\r\nOrigin: " + ORIGIN.encode() +
                 b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(await reader.readexactly(length))


async def login(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, user: str,
                auth: SoftAuthenticator) -> str | None:
    """One login in two round trips; None, or why it failed."""
    first = await post(reader, writer, {"user": user, "pass": PIN})
    if first["result"].get("authentication") != "CHALLENGE":
        return json.dumps(first)[:300]
    found = first["detail"]["multi_challenge"][0]
    nonce = found["attributes"]["webAuthnSignRequest"]["challenge"]
    signed = auth.assert_(base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4)))
    second = await post(reader, writer, {"user": user, "pass": "", "transaction_id": found["transaction_id"],
                                         **signed.wire()})
    return None if second["result"].get("authentication") == "ACCEPT" else json.dumps(second)[:300]


async def worker(host: str, port: int, users: list[str], authenticators: dict[str, SoftAuthenticator],
                 deadline: float, interval: float, budget: list[int], latencies: list[float],
                 failures: list[str]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    due = time.monotonic()
    try:
        while True:
            for user in users:
                if interval:
                    due += interval
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                else:
                    due = time.monotonic()
                if time.monotonic() >= deadline or budget[0] <= 0:
                    return
                budget[0] -= 1
                failed = await login(reader, writer, user, authenticators[user])
                latencies.append(time.monotonic() - due)
                if failed:
                    failures.append(failed)
    finally:
        writer.close()


async def drive(url: str, authenticators: dict[str, SoftAuthenticator], concurrency: int, duration: float,
                count: int, rate: float) -> tuple[list[float], list[str], float]:
    parts = urlsplit(url)
    latencies: list[float] = []
    failures: list[str] = []
    users = list(authenticators)
    started = time.monotonic()
    groups = [users[i::concurrency] for i in range(concurrency)]
    interval = concurrency / rate if rate else 0.0
    await asyncio.gather(*(worker(parts.hostname or "127.0.0.1", parts.port or 80, g, authenticators,
                                  started + duration, interval, [count // concurrency + 1], latencies, failures)
                           for g in groups if g))
    return latencies, failures, time.monotonic() - started


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(p)
    p.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    p.add_argument("--count", type=int, default=200_000, help="logins (upper bound)")
    p.add_argument("--rate", type=float, default=0.0, help="logins per second offered in total (0: as fast as served)")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="tesserad-bench-") as tmp:
        workdir = Path(tmp)
        print(f"provisioning {args.users} users with WebAuthn tokens ...", flush=True)
        config, data, authenticators = provision_webauthn(workdir, args)
        daemon = DaemonProcess(workdir / "run", config).start()
        url = "http://127.0.0.1:" + data["web"]["listen"][0].split(":")[1]
        try:
            cpu_before, client_before = process_cpu(daemon.proc.pid), time.process_time()
            with collector_paused():
                latencies, failures, elapsed = asyncio.run(
                    drive(url, authenticators, args.concurrency, args.duration, args.count, args.rate))
            cpu_after = process_cpu(daemon.proc.pid)
            client_cpu = time.process_time() - client_before
        finally:
            daemon.stop()
            daemon.close()
    latencies.sort()
    ok = len(latencies) - len(failures)
    offered = f"offered {args.rate:.0f}/s" if args.rate else "closed loop"
    print(f"logins {len(latencies)}  successful {ok}  failures {len(failures)}  in {elapsed:.1f}s  "
          f"({offered}, {args.concurrency} connections, {os.cpu_count()} cores)")
    print(f"successful logins/s {ok / elapsed:.0f}  (two round trips each)")
    print("login latency ms  p50 {:.1f}  p95 {:.1f}  p99 {:.1f}  max {:.1f}".format(
        *(1000 * percentile(latencies, f) for f in (0.50, 0.95, 0.99)), 1000 * (latencies[-1] if latencies else 0)))
    print(f"{cpu_line(cpu_before, cpu_after, 2 * len(latencies))}; load generator "
          f"{1000 * client_cpu / max(len(latencies), 1):.2f} ms per login")
    if failures:
        print("first failure:", failures[0])
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
