#!/usr/bin/env python3
"""RADIUS load generator: Access-Accept/s and latency percentiles for PIN+HOTP logins, and
Access-Reject/s for a flood of wrong OTPs.

It provisions a throw-away tesserad (flat-file realm, one HOTP token per user, PINs stored
with the chosen method, one RADIUS client for 127.0.0.1), starts it on free loopback ports
and pre-encodes every Access-Request (PAP password and Message-Authenticator) before the
clock starts. Each simulated NAS is one UDP socket with one request in flight, so a user's
OTPs arrive in order. Without --rate every NAS sends its next request when the last is
answered (closed loop, the maximum rate); with --rate requests are offered at that rate.
Modes: ``accept`` (right PIN and OTP), ``reject`` (right PIN, wrong OTP), ``mixed`` (half the
NAS, or ``--flood-nas`` of them, flood wrong OTPs for their own users while the others log in;
latencies are reported per kind). ``--other HOST:PORT`` drives another RADIUS server in the same run
(e.g. FreeRADIUS with the privacyIDEA plugin, provisioned with the same users, seed and
PIN). Bounded by --duration and --count; loopback only. Not part of the test suite.

    .venv/bin/python bench/radius_load.py --duration 10
    .venv/bin/python bench/radius_load.py --mode mixed --rate 500
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import select
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyrad import packet as rp  # noqa: E402
from validate_load import (  # noqa: E402
    PIN,
    SEED,
    add_server_arguments,
    collector_paused,
    cpu_line,
    percentile,
    process_cpu,
    provision_users,
)

from tesserad.core.security.hashing import SecretHasher  # noqa: E402
from tesserad.core.tokens.oath import hotp  # noqa: E402
from tesserad.radius import wire  # noqa: E402

from tests.daemon_process import DaemonProcess  # noqa: E402
from tests.helpers import free_port  # noqa: E402

SECRET = b"bench-secret"
TIMEOUT_S = 3.0


@dataclass
class Nas:
    """One simulated NAS: a socket, its pre-encoded requests, one in flight."""

    kind: str  # "login" or "flood"
    sock: socket.socket
    packets: list[bytes]
    next: int = 0
    sent_at: float | None = None
    in_flight: int = -1  # Identifier of the request in flight

    def send(self, target: tuple[str, int], now: float) -> bool:
        if self.next >= len(self.packets):
            return False
        packet = self.packets[self.next]
        self.next += 1
        self.in_flight = packet[1]
        self.sent_at = now
        self.sock.sendto(packet, target)
        return True


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"login": [], "flood": []})
    codes: dict[int, int] = field(default_factory=dict)
    lost: int = 0
    elapsed: float = 0.0


def encode(secret: bytes, user: int, counter: int, wrong: bool, identifier: int) -> bytes:
    req = rp.AuthPacket(id=identifier, secret=secret, dict=wire.dictionary(), message_authenticator=True)
    req["User-Name"] = f"user{user}"
    req["User-Password"] = req.PwCrypt(PIN + ("000000" if wrong else hotp(SEED, counter)))
    req["NAS-Identifier"] = "bench"
    return req.RequestPacket()


def build_nas(secret: bytes, mode: str, users: int, nas_count: int, count: int,
              flood_nas: int | None = None) -> list[Nas]:
    """NAS i logs in users i, i+nas_count, ... in rounds; in mixed mode the last
    ``flood_nas`` NAS (default: half) flood wrong OTPs for their own users."""
    fleet = []
    per_nas = -(-count // nas_count)
    flooding = nas_count // 2 if flood_nas is None else flood_nas
    for index in range(nas_count):
        flood = mode == "reject" or (mode == "mixed" and index >= nas_count - flooding)
        own = list(range(index, users, nas_count)) or [index % users]
        packets = [encode(secret, own[n % len(own)], n // len(own), flood, n % 256) for n in range(per_nas)]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        fleet.append(Nas("flood" if flood else "login", sock, packets))
    return fleet


def drive(target: tuple[str, int], fleet: list[Nas], duration: float, count: int, rate: float | None) -> Stats:
    stats = Stats()
    by_fd = {nas.sock.fileno(): nas for nas in fleet}
    started = time.monotonic()
    deadline = started + duration
    interval = 1.0 / rate if rate else 0.0
    next_offer = started
    sent = 0
    idle = list(fleet)
    while time.monotonic() < deadline and (any(nas.sent_at is not None for nas in fleet)
                                           or (idle and sent < count)):
        now = time.monotonic()
        while idle and sent < count and (not rate or next_offer <= now):
            nas = idle.pop(0)
            if nas.send(target, now):  # else it has sent all its requests
                sent += 1
                next_offer += interval
        wait = max(0.0, next_offer - now) if rate and idle else 0.05
        readable, _, _ = select.select(list(by_fd), [], [], min(wait, 0.05))
        now = time.monotonic()
        for fd in readable:
            nas = by_fd[fd]
            data = nas.sock.recv(8192)
            if len(data) < 20 or data[1] != nas.in_flight or nas.sent_at is None:
                continue  # a late reply to a request already given up
            stats.latencies[nas.kind].append(now - nas.sent_at)
            stats.codes[data[0]] = stats.codes.get(data[0], 0) + 1
            nas.sent_at = None
            idle.append(nas)
        for nas in fleet:
            if nas.sent_at is not None and now - nas.sent_at > TIMEOUT_S:
                stats.lost += 1
                nas.sent_at = None
                idle.append(nas)
    stats.elapsed = time.monotonic() - started
    return stats


def report(name: str, stats: Stats) -> None:
    accepts, rejects = stats.codes.get(rp.AccessAccept, 0), stats.codes.get(rp.AccessReject, 0)
    print(f"{name}: {accepts} Access-Accept ({accepts / stats.elapsed:.0f}/s), {rejects} Access-Reject "
          f"({rejects / stats.elapsed:.0f}/s), {stats.lost} lost, in {stats.elapsed:.1f}s")
    for kind, values in stats.latencies.items():
        if values:
            values.sort()
            print("  {} latency ms  p50 {:.1f}  p95 {:.1f}  p99 {:.1f}  max {:.1f}".format(
                kind, *(1000 * percentile(values, f) for f in (0.50, 0.95, 0.99)), 1000 * values[-1]))


def _hash_worker(seconds: float, result: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    hasher = SecretHasher(b"p" * 32)
    stored = hasher.hash(PIN)
    done, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        hasher.verify(stored, PIN)
        done += 1
    result.put(done)


def hash_baseline(seconds: float) -> float:
    """argon2id PIN verifications per second with the default parameters, one process per
    core: the ceiling for logins with argon2 PINs on this machine."""
    cores = len(os.sched_getaffinity(0))
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    workers = [multiprocessing.Process(target=_hash_worker, args=(seconds, queue)) for _ in range(cores)]
    for worker in workers:
        worker.start()
    total = sum(queue.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(p)
    p.add_argument("--mode", choices=("accept", "reject", "mixed"), default="accept")
    p.add_argument("--nas", type=int, default=32, help="simulated NAS (sockets), one request in flight each")
    p.add_argument("--flood-nas", type=int, help="mixed mode: how many of the NAS flood (default: half)")
    p.add_argument("--rate", type=float, help="offered requests/s (default: as fast as answered)")
    p.add_argument("--count", type=int, default=20_000, help="requests (upper bound, all pre-encoded)")
    p.add_argument("--other", metavar="HOST:PORT", help="also drive this RADIUS server (same users, seed, PIN)")
    p.add_argument("--other-secret", default=SECRET.decode(), help="the other server's shared secret")
    args = p.parse_args()
    if args.pin == "argon2":
        print(f"argon2id verifications alone: {hash_baseline(min(5.0, args.duration)):.1f}/s on all cores",
              flush=True)

    with tempfile.TemporaryDirectory(prefix="tesserad-bench-") as tmp:
        workdir = Path(tmp)
        port = free_port(socket.SOCK_DGRAM)
        print(f"provisioning {args.users} users, pre-encoding {args.count} requests ...", flush=True)
        config, _ = provision_users(workdir, args, radius={
            "auth_listen": [f"127.0.0.1:{port}"],
            "clients": [{"name": "bench", "address": "127.0.0.1", "secret": SECRET.decode()}]})
        fleet = build_nas(SECRET, args.mode, args.users, args.nas, args.count, args.flood_nas)
        daemon = DaemonProcess(workdir / "run", config).start()
        try:
            cpu_before = process_cpu(daemon.proc.pid)
            with collector_paused():
                stats = drive(("127.0.0.1", port), fleet, args.duration, args.count, args.rate)
            cpu_after = process_cpu(daemon.proc.pid)
        finally:
            daemon.stop()
            daemon.close()
    answered = sum(stats.codes.values())
    print(f"on {os.cpu_count()} cores, {args.nas} NAS, mode {args.mode}, PIN {args.pin}"
          + (f", offered {args.rate:.0f}/s" if args.rate else ""))
    report("tesserad", stats)
    print(f"  {cpu_line(cpu_before, cpu_after, answered)}")
    if args.other:
        host, _, other_port = args.other.rpartition(":")
        other = build_nas(args.other_secret.encode(), args.mode, args.users, args.nas, args.count, args.flood_nas)
        with collector_paused():
            stats = drive((host.strip("[]"), int(other_port)), other, args.duration, args.count, args.rate)
        report(args.other, stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
