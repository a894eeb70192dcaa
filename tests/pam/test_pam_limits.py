"""The PAM socket's limits against a real daemon over its real socket: a peer that trickles
its frame is closed within pam.idle_timeout of the first byte, and slow peers of other
users, one or several, cannot keep root's login (pamtester through pam_tesserad.so) from
getting a connection."""

from __future__ import annotations

import grp
import json
import os
import pwd
import select
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tesserad.pam_module import wire

from tests.helpers import require
from tests.pam.conftest import Build, PamServer, PamServices, needs_root, start_server
from tests.pam.test_pam_stack import module_line, pamtester

SLOW_PEER = Path(__file__).with_name("slow_peer.py")
# The system's interpreter: the peers' users may not reach the test's (under a home directory).
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")
IDLE_TIMEOUT = 2


@contextmanager
def running(workdir: Path, socket_dir: Path, **pam: object) -> Iterator[PamServer]:
    server = start_server(workdir, f"sqlite:///{workdir / 'tesserad.db'}", socket_dir, pam)
    try:
        yield server
    finally:
        assert server.daemon.stop() == 0
        server.daemon.close()


def closed_by_peer(sock: socket.socket) -> bool:
    sock.settimeout(0.5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_trickling_peer_is_closed_within_the_idle_timeout_of_its_first_byte(tmp_path: Path,
                                                                              socket_dir: Path) -> None:
    own_group = grp.getgrgid(os.getgid()).gr_name  # lets this process in when it is not root
    frame = wire.encode({"v": "1", "op": "auth", "user": "alice", "password": "x" * 200})
    with running(tmp_path, socket_dir, idle_timeout=IDLE_TIMEOUT, allowed_group=own_group) as server, \
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as peer:
        peer.connect(str(server.socket))
        first = time.monotonic()  # before the daemon can have the byte, so its deadline is later
        peer.sendall(frame[:1])
        for byte in frame[1:]:
            # A byte every quarter second, until the daemon closes or four timeouts have passed.
            readable, _, _ = select.select([peer], [], [], 0.25)
            if readable or time.monotonic() - first > 4 * IDLE_TIMEOUT:
                break
            try:
                peer.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
        elapsed = time.monotonic() - first
        assert closed_by_peer(peer), f"still open {elapsed:.1f} s after the first byte"
    assert IDLE_TIMEOUT - 0.1 <= elapsed < IDLE_TIMEOUT + 1.5, elapsed
    assert f"did not finish a frame within {IDLE_TIMEOUT} s; closed" in server.daemon.stderr


class SlowPeer:
    """slow_peer.py as another user: its answers, and which held connections stay open."""

    def __init__(self, sock: Path, uid: int, gid: int, count: int):
        self.proc = subprocess.Popen([str(SYSTEM_PYTHON), str(SLOW_PEER), str(sock), str(count)], user=uid, group=gid,
                                     extra_groups=[], cwd="/", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env={"PATH": "/usr/bin:/bin"})
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self.answers: list[str] = json.loads(self.stdout.readline() or "null")

    def still_open(self) -> list[bool]:
        self.stdin.write("\n")
        self.stdin.flush()
        return json.loads(self.stdout.readline() or "null")

    def close(self) -> None:
        self.proc.kill()
        self.proc.communicate(timeout=30)


def test_slow_peers_of_other_users_leave_root_a_login(tmp_path: Path, socket_dir: Path, build: Build,
                                                      services: PamServices) -> None:
    needs_root()
    require(SYSTEM_PYTHON is not None, "no python3 in /usr/bin or /bin for the other users' peers")
    nobody = pwd.getpwnam("nobody")
    socket_dir.chmod(0o711)  # the peers' users reach the socket through its group
    # 8 connections: 4 per user (50 %), 2 for root (25 %), so other users hold 6 at most.
    with running(tmp_path, socket_dir, listen=[f"unix:{socket_dir / 'pam.sock'}:mode=660"],
                 allowed_group=grp.getgrgid(nobody.pw_gid).gr_name, max_connections=8, uid_share_percent=50,
                 root_reserve_percent=25, idle_timeout=60) as server:
        peers: list[SlowPeer] = []
        try:
            peers.append(SlowPeer(server.socket, nobody.pw_uid, nobody.pw_gid, count=8))
            assert peers[0].answers == ["reject"] * 4 + ["unavailable: too many connections from this user"] * 4
            peers.append(SlowPeer(server.socket, nobody.pw_uid - 1, nobody.pw_gid, count=8))
            assert peers[1].answers == ["reject"] * 2 + [
                "unavailable: too many connections from users other than root"] * 6

            service = services.install(module_line(build, server))
            login = pamtester(service, "alice", ["1234" + server.otp("alice")])
            assert login.returncode == 0 and "successfully authenticated" in login.stdout, login.stdout
            # Root got in while the slow peers still held every connection they may have.
            assert [peer.still_open() for peer in peers] == [[True] * 4, [True] * 2]
        finally:
            for peer in peers:
                peer.close()
