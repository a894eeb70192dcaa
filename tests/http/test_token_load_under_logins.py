"""A large seed file imported through the real HTTP API of a real daemon (shipped defaults:
SQLite; and PostgreSQL) while NAS send RADIUS logins at full rate: the import completes, and every login is
answered with an Access-Accept, also while the import runs, because the import writes in
short batches between which the logins' writes get the database."""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyrad import packet as rp

from tesserad.core.tokens.oath import hotp

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, free_port, write_config
from tests.http.test_token_load import upload
from tests.provision import add_admins, provision
from tests.radius.nas import SECRET, access_request, verified_reply

ROWS = 20_000
USERS = 24
NAS_COUNT = 6  # each with one Access-Request in flight: a closed loop at the daemon's full rate
PIN = "4711"
SEED = bytes(range(20))
ADMIN_PASSWORD = "import-Secret-1"
TIMEOUT_S = 10.0
IMPORT_TIMEOUT_S = 120.0


@dataclass
class Nas:
    """One NAS: its own socket and users (so that each user's OTPs arrive in order)."""

    sock: socket.socket
    users: list[int]
    sent: int = 0
    request: rp.AuthPacket | None = None
    sent_at: float = 0.0

    def send(self, target: tuple[str, int]) -> None:
        user = self.users[self.sent % len(self.users)]
        counter = self.sent // len(self.users)
        self.request = access_request(f"user{user}", PIN + hotp(SEED, counter))
        self.sock.sendto(self.request.RequestPacket(), target)
        self.sent += 1
        self.sent_at = time.monotonic()


@dataclass
class Logins:
    accepted: int = 0
    other: dict[int, int] = field(default_factory=dict)  # reply code -> count
    lost: int = 0
    latencies: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)


def drive(target: tuple[str, int], importing: threading.Thread) -> Logins:
    """Logins from NAS_COUNT NAS until the import is over, then until all are answered."""
    fleet = []
    for index in range(NAS_COUNT):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        fleet.append(Nas(sock, list(range(index, USERS, NAS_COUNT))))
    logins = Logins()
    for nas in fleet:
        nas.send(target)
    by_fd = {nas.sock.fileno(): nas for nas in fleet}
    waiting = set(by_fd)
    try:
        while waiting:
            readable, _, _ = select.select(list(waiting), [], [], 0.5)
            now = time.monotonic()
            for fd in readable:
                nas = by_fd[fd]
                assert nas.request is not None
                reply = verified_reply(nas.request, nas.sock.recv(8192))
                logins.latencies.append(now - nas.sent_at)
                logins.answered_at.append(now)
                if reply.code == rp.AccessAccept:
                    logins.accepted += 1
                else:
                    logins.other[reply.code] = logins.other.get(reply.code, 0) + 1
                if importing.is_alive():
                    nas.send(target)
                else:
                    waiting.discard(fd)
            for fd in list(waiting):
                if now - by_fd[fd].sent_at > TIMEOUT_S:
                    logins.lost += 1
                    waiting.discard(fd)
    finally:
        for nas in fleet:
            nas.sock.close()
    return logins


def call(url: str, path: str, body: bytes, headers: dict[str, str], timeout: float = 30) -> tuple[int, Any]:
    request = urllib.request.Request(url + path, data=body, headers=headers,
                                     method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_20000_token_import_beside_radius_logins(tmp_path: Path, db_url: str) -> None:
    radius_port = free_port(socket.SOCK_DGRAM)
    # SQLite: the shipped default (tesserad.db in the data directory), no URL given.
    database = {} if db_url.startswith("sqlite") else {"url": db_url}
    data = daemon_config(tmp_path, database=database, radius={"auth_listen": [f"127.0.0.1:{radius_port}"],
                                           "clients": [{"name": "nas", "address": "127.0.0.1",
                                                        "secret": SECRET.decode()}]})
    config = write_config(tmp_path, data)
    passwd = tmp_path / "passwd"
    passwd.write_text("".join(f"user{i}:x:{10000 + i}:100::/:/bin/false\n" for i in range(USERS)))
    provision(config, passwd, [{"user": f"user{i}", "type": "hotp", "otpkey": SEED.hex(), "pin": PIN}
                               for i in range(USERS)])
    add_admins(config, {"root": ADMIN_PASSWORD})
    url = f"http://127.0.0.1:{data['web']['listen'][0].split(':')[1]}"
    seeds = [os.urandom(16).hex() for _ in range(ROWS)]
    content = "".join(f"IMP{number:05d},{seed}\n" for number, seed in enumerate(seeds))
    daemon = DaemonProcess(tmp_path / "run", config).start()
    try:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        status, body = call(url, "/auth", f"username=root&password={ADMIN_PASSWORD}".encode(), form)
        assert status == 200, body
        admin = {"Authorization": body["result"]["value"]["token"]}
        file_body, file_headers = upload("oathcsv", content)
        answer: dict[str, Any] = {}

        def run_import() -> None:
            answer["started"] = time.monotonic()
            answer["reply"] = call(url, "/token/load/tokens.csv", file_body, {**admin, **file_headers},
                                   timeout=IMPORT_TIMEOUT_S)
            answer["ended"] = time.monotonic()

        importing = threading.Thread(target=run_import)
        importing.start()
        logins = drive(("127.0.0.1", radius_port), importing)
        importing.join()

        status, body = answer["reply"]
        assert (status, body["result"]["value"]) == (200, {"n_imported": ROWS, "n_not_imported": 0}), body
        started, seconds = answer["started"], answer["ended"] - answer["started"]
        print(f"\nimported {ROWS} tokens in {seconds:.1f} s ({ROWS / seconds:.0f} rows/s) beside "
              f"{logins.accepted} logins, latency max {max(logins.latencies):.3f} s")
        assert (logins.accepted, logins.other, logins.lost) == (len(logins.latencies), {}, 0)
        # Logins were answered in every quarter of the import: it never held the database for long.
        quarters = {int(4 * (at - started) / seconds) for at in logins.answered_at if started <= at < started + seconds}
        assert quarters == {0, 1, 2, 3}, quarters
        listed = call(url, "/token/?serial=IMP*&pagesize=1", b"", admin)
        assert listed[1]["result"]["value"]["count"] == ROWS
        last = f"serial=IMP{ROWS - 1:05d}&pass={hotp(bytes.fromhex(seeds[-1]), 0)}"
        assert call(url, "/validate/check", last.encode(), form)[1]["result"]["value"] is True
        assert "database is locked" not in daemon.stderr and "Traceback" not in daemon.stderr
    finally:
        daemon.stop()
        daemon.close()
