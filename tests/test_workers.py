"""Several worker processes behind one supervisor, as an operator runs them
(``server.workers``): shared ports, readiness, restarts, reload, stop, and TLS."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http.client
import os
import signal
import socket
import ssl
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tesserad.daemon.supervisor import worker_count

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, free_port, until, write_config


@pytest.fixture
def daemons() -> Iterator[list[DaemonProcess]]:
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        pids = children(daemon.proc.pid) if daemon.proc and daemon.proc.poll() is None else []
        daemon.close()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def healthz(url: str, context: ssl.SSLContext | None = None) -> int:
    with urllib.request.urlopen(url + "/healthz", timeout=10, context=context) as response:
        return response.status


def start(tmp_path: Path, daemons: list[DaemonProcess], listen: str, **server: Any) -> DaemonProcess:
    data = daemon_config(tmp_path, server={"workers": 2, **server})
    data["web"]["listen"] = [listen]
    daemon = DaemonProcess(tmp_path / "run", write_config(tmp_path, data))
    daemons.append(daemon)
    return daemon.start()


def test_workers_share_the_port_restart_reload_and_stop(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    daemon = start(tmp_path, daemons, f"tcp:{port}:interface=127.0.0.1")
    assert daemon.proc is not None
    workers = children(daemon.proc.pid)
    assert len(workers) == 2
    assert "serving with 2 workers" in daemon.stderr
    assert healthz(url) == 200

    # Either worker serves: with one frozen, every new connection goes to the other.
    os.kill(workers[0], signal.SIGSTOP)
    try:
        assert [healthz(url) for _ in range(5)] == [200] * 5
    finally:
        os.kill(workers[0], signal.SIGCONT)

    # A worker that dies is replaced, and the service goes on.
    os.kill(workers[1], signal.SIGKILL)
    replaced = until(lambda: (pids := children(daemon.proc.pid)) and len(pids) == 2 and workers[1] not in pids
                     and pids, "a replacement worker")
    assert "restarting it in 0 s" in daemon.stderr
    until(lambda: daemon.stderr.count("Site starting") == 3, "the replacement to listen")
    assert healthz(url) == 200

    daemon.signal(signal.SIGHUP)
    until(lambda: daemon.stderr.count("reloaded configuration: nothing to apply") == 2, "both workers to reload")
    assert "reloaded configuration: signalled 2 workers" in daemon.stderr

    assert daemon.stop() == 0
    assert not any(alive(pid) for pid in replaced)
    for slot in (0, 1):
        assert f"[tesserad.daemon.service.Daemon#info worker={slot}] stopped" in daemon.stderr


def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    daemon = start(tmp_path, daemons, f"tcp:{free_port()}:interface=127.0.0.1")
    assert daemon.proc is not None
    workers = children(daemon.proc.pid)
    daemon.proc.kill()
    daemon.proc.wait()
    until(lambda: not any(alive(pid) for pid in workers), "orphaned workers to stop")


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    key_path, cert_path = tmp_path / "key.pem", tmp_path / "cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def test_workers_serve_tls_endpoints(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    key, cert = self_signed(tmp_path)
    port = free_port()
    start(tmp_path, daemons, f"ssl:{port}:interface=127.0.0.1:privateKey={key}:certKey={cert}")
    context = ssl.create_default_context(cafile=str(cert))
    assert [healthz(f"https://localhost:{port}", context) for _ in range(4)] == [200] * 4


def test_workers_on_a_unix_socket(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    path = tmp_path / "api.sock"
    start(tmp_path, daemons, f"unix:{path}")

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(str(path))

    for _ in range(3):
        conn = UnixConnection("localhost")
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200
        conn.close()


def test_zero_workers_means_one_per_usable_core() -> None:
    assert worker_count(0) == len(os.sched_getaffinity(0))
    assert worker_count(3) == 3


def established(pid: int, port: int) -> int:
    """How many accepted connections to ``port`` process ``pid`` holds (from /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # ESTABLISHED, local port
            inodes.add(fields[9])
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            held += target.startswith("socket:[") and target[8:-1] in inodes
    return held


async def keep_alive_pool(port: int, size: int, requests: int, measure: Callable[[], Any]) -> Any:
    """``size`` connections opened at once, each sending ``requests`` requests in turn as
    soon as it is connected (a client pool under load); ``measure`` runs while all are open."""
    all_done, measured = asyncio.Barrier(size + 1), asyncio.Event()

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(requests):
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert (await reader.readline()).startswith(b"HTTP/1.1 200")
            while await reader.readline() != b"\r\n":
                pass  # headers; the body comes chunked
            while (chunk := int(await reader.readline(), 16)) > 0:
                await reader.readexactly(chunk + 2)
            await reader.readline()
        await all_done.wait()
        await measured.wait()
        writer.close()

    clients = [asyncio.create_task(client()) for _ in range(size)]
    await asyncio.wait_for(all_done.wait(), 60)
    result = measure()
    measured.set()
    await asyncio.gather(*clients)
    return result


# Bursts of 16 connections: one burst is at the scheduler's mercy on a loaded machine (the idle
# worker must run within the 1 ms accept pause, and once in ~25 bursts it does not: [14, 2]),
# so the test judges the average over several. Measured on the shared 2-core test machine,
# the less busy worker held 7.5 of 16 on average with the pause, and 2 without it (16 of 16
# on one worker in most bursts, an even spread in about a quarter of them).
BURSTS, POOL = 8, 16


def test_bursts_of_keep_alive_connections_are_spread_over_the_workers(
        tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    """A client pool that connects all at once under load must not land on one worker for
    good (it did: 15 of 16 connections on one worker, half the throughput)."""
    port = free_port()
    daemon = start(tmp_path, daemons, f"tcp:{port}:interface=127.0.0.1", threads=4)
    assert daemon.proc is not None
    workers = children(daemon.proc.pid)
    smaller = []
    for _ in range(BURSTS):
        spread = asyncio.run(keep_alive_pool(port, POOL, 20, lambda: [established(pid, port) for pid in workers]))
        assert sum(spread) == POOL, spread
        smaller.append(min(spread))
    assert sum(smaller) / BURSTS >= 4.5, smaller  # more than a quarter of each burst, on average
