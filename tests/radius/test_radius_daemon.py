"""RADIUS against a real tesserad process, as NAS use it: radclient (freeradius-utils) and
pyrad on real sockets, over SQLite and PostgreSQL, IPv4 and IPv6 loopback."""

from __future__ import annotations

import random
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from pyrad import packet as rp

from tesserad.core.store.models import AuditEntry, Token

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, free_port, require, write_config
from tests.provision import audit_rows, provision_hotp_people, stored_token
from tests.radius.nas import CALLING, UdpNas, access_request, status_server
from tests.wired import RFC4226

SECRET = "testing123"
V6_SECRET = "v6-secret"
# Source addresses on loopback, one per role, so that each drop reason gets its own
# (once a minute per address) log line.
STRICT, LEGACY, UNKNOWN, WRONG_SECRET, NO_MA, LATE = (
    "127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6")
CLIENTS = [
    {"name": "strict", "address": STRICT, "secret": SECRET},
    {"name": "legacy", "address": LEGACY, "secret": SECRET, "require_message_authenticator": False},
    {"name": "wrong-secret", "address": WRONG_SECRET, "secret": SECRET},
    {"name": "no-ma", "address": NO_MA, "secret": SECRET},
    {"name": "v6", "address": "::1", "secret": V6_SECRET},
]
REPLY = [{"attribute": "Class", "value": "tesserad"},
         {"attribute": "privacyIDEA-Serial", "source": "serial"},
         {"attribute": "Fortinet-Group-Name", "source": "type", "match": "^(h)otp$", "value": "{1}-users"}]


@dataclass
class RadiusServer:
    config: Path
    data: dict[str, Any]
    daemon: DaemonProcess
    auth: tuple[str, int]
    auth6: tuple[str, int]
    acct: tuple[str, int]

    def nas(self, source: str = STRICT, *, accounting: bool = False) -> UdpNas:
        return UdpNas(self.acct if accounting else self.auth, source)

    def radclient(self, command: str, attributes: str, *, server: str | None = None,
                  secret: str = SECRET) -> subprocess.CompletedProcess[str]:
        target = server or (f"{self.acct[0]}:{self.acct[1]}" if command == "acct" else f"{self.auth[0]}:{self.auth[1]}")
        return subprocess.run(["radclient", "-x", "-r", "1", "-t", "10", target, command, secret],
                              input=attributes + "\n", capture_output=True, text=True, timeout=60)

    def token(self, serial: str) -> Token:
        return stored_token(self.config, serial)

    def audit(self) -> list[AuditEntry]:
        return audit_rows(self.config)

    def handled(self) -> None:
        """Wait (without sleeping) until every datagram sent to the authentication port so
        far was handled: the daemon reads the socket in order, so an answered Status-Server
        proves it."""
        probe = self.nas(STRICT)
        assert probe.ask(status_server()).code == rp.AccessAccept
        probe.close()


def start_server(tmp_path: Path, db_url: str, **server: Any) -> RadiusServer:
    auth, auth6, acct = (free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM, "::1"),
                         free_port(socket.SOCK_DGRAM))
    data = daemon_config(tmp_path, database={"url": db_url}, server=server, radius={
        "auth_listen": [f"127.0.0.1:{auth}", f"[::1]:{auth6}"], "acct_listen": [f"127.0.0.1:{acct}"],
        "clients": CLIENTS, "reply": REPLY})
    config = write_config(tmp_path, data)
    provision_hotp_people(config, tmp_path / "passwd")
    daemon = DaemonProcess(tmp_path / "run", config).start()
    return RadiusServer(config, data, daemon, ("127.0.0.1", auth), ("::1", auth6), ("127.0.0.1", acct))


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[RadiusServer]:
    running = start_server(tmp_path, db_url)
    try:
        yield running
    finally:
        running.daemon.stop()
        running.daemon.close()


def needs_radclient() -> None:
    require(shutil.which("radclient") is not None,
            "radclient is not installed (Debian freeradius-utils; scripts/install-test-deps.sh)")


def state_of(radclient_output: str) -> str:
    match = re.search(r"State = (0x[0-9a-f]+)", radclient_output)
    assert match, radclient_output
    return match.group(1)


def test_radclient_accept_reject_challenge_status_and_accounting(server: RadiusServer) -> None:
    needs_radclient()
    login = ('User-Name = "alice", User-Password = "1234{otp}", NAS-Identifier = "nas1", '
             f'Calling-Station-Id = "{CALLING}", Message-Authenticator = 0x00')
    accepted = server.radclient("auth", login.format(otp=RFC4226[0]))
    assert accepted.returncode == 0 and "Received Access-Accept" in accepted.stdout, accepted
    assert "Message-Authenticator = 0x" in accepted.stdout
    assert 'Class = 0x' + b"tesserad".hex() in accepted.stdout  # radclient's own dictionary decodes the VSAs
    assert re.search(r'(privacyIDEA-Serial|Attr-26\.44929\.1) = ', accepted.stdout), accepted.stdout
    assert 'Fortinet-Group-Name = "h-users"' in accepted.stdout
    chap = server.radclient("auth", 'User-Name = "alice", CHAP-Password = "1234", Message-Authenticator = 0x00')
    assert chap.returncode == 1 and "Received Access-Reject" in chap.stdout, chap
    rejected = server.radclient("auth", login.format(otp=RFC4226[0]))
    assert rejected.returncode == 1 and "Received Access-Reject" in rejected.stdout, rejected

    challenge = server.radclient("auth", 'User-Name = "carol", User-Password = "5678", Message-Authenticator = 0x00')
    assert "Received Access-Challenge" in challenge.stdout, challenge
    assert 'Reply-Message = "please enter otp: "' in challenge.stdout
    timeout = re.search(r"Session-Timeout = (\d+)", challenge.stdout)
    assert timeout and 110 < int(timeout.group(1)) <= 120  # DefaultChallengeValidityTime, as it runs down
    answer = server.radclient("auth", f'User-Name = "carol", User-Password = "{RFC4226[0]}", '
                                      f'State = {state_of(challenge.stdout)}, Message-Authenticator = 0x00')
    assert answer.returncode == 0 and "Received Access-Accept" in answer.stdout, answer

    status = server.radclient("status", "Message-Authenticator = 0x00")
    assert status.returncode == 0 and "Received Access-Accept" in status.stdout, status
    accounting = server.radclient("acct", 'User-Name = "alice", Acct-Status-Type = Start, '
                                          'Acct-Session-Id = "s-1", NAS-Identifier = "nas1"')
    assert accounting.returncode == 0 and "Received Accounting-Response" in accounting.stdout, accounting

    rows = server.audit()
    first = rows[0]
    assert (first.action, first.authentication, first.serial, first.user, first.client) == (
        "RADIUS Access-Request", "ACCEPT", "HOTP1", "alice", STRICT)
    assert first.action_detail == f"nas1 radius_client=strict calling_station_id={CALLING}"
    assert rows[1].info == "CHAP is not supported: an OTP cannot be checked against its hash; configure the NAS for PAP"
    assert [r.authentication for r in rows[:5]] == ["ACCEPT", "REJECT", "REJECT", "CHALLENGE", "ACCEPT"]
    assert (rows[-1].action, rows[-1].info) == ("RADIUS Accounting-Request",
                                                "Acct-Status-Type=Start Acct-Session-Id=s-1")
    assert "1234" + RFC4226[0] not in server.daemon.stderr


def test_radclient_over_ipv6_loopback(server: RadiusServer) -> None:
    needs_radclient()
    result = server.radclient("auth", f'User-Name = "bob", User-Password = "1234{RFC4226[0]}", '
                                      'Message-Authenticator = 0x00',
                              server=f"[::1]:{server.auth6[1]}", secret=V6_SECRET)
    assert result.returncode == 0 and "Received Access-Accept" in result.stdout, result
    assert server.audit()[-1].client == "::1"


def test_drops_wrong_secret_missing_message_authenticator_and_unknown_sources(server: RadiusServer) -> None:
    password = "1234" + RFC4226[0]
    cases = [(WRONG_SECRET, access_request(password=password, secret=b"not-the-secret"),
              "client wrong-secret (127.0.0.4): wrong Message-Authenticator (wrong secret?)"),
             (NO_MA, access_request(password=password, message_authenticator=False),
              "client no-ma (127.0.0.5): no Message-Authenticator, which this client requires"),
             (UNKNOWN, access_request(password=password),
              "dropped RADIUS packets from 127.0.0.3: not a configured client")]
    for source, req, line in cases:
        nas = server.nas(source)
        nas.send(req.RequestPacket())
        server.handled()
        assert nas.nothing_pending()
        assert line in server.daemon.stderr
        nas.close()
    assert server.token("HOTP1").count == 0
    # Without a Message-Authenticator the legacy client is answered; the OTP was still unused.
    legacy = server.nas(LEGACY)
    assert legacy.ask(access_request(password=password, message_authenticator=False)).code == rp.AccessAccept
    assert server.token("HOTP1").count == 1


def test_a_retransmission_gets_the_same_bytes_and_consumes_one_otp(server: RadiusServer) -> None:
    nas = server.nas()
    raw = access_request(password="1234" + RFC4226[0], proxy_states=(b"two", b"one")).RequestPacket()
    nas.send(raw)
    first = nas.receive()
    nas.send(raw)
    assert nas.receive() == first
    assert first[0] == rp.AccessAccept
    token = server.token("HOTP1")
    assert (token.count, token.failcount) == (1, 0)
    assert [r.action for r in server.audit()] == ["RADIUS Access-Request"]


def test_fuzzed_packets_then_a_valid_login(server: RadiusServer) -> None:
    rng = random.Random(7)
    seed = access_request(password="1234" + RFC4226[0], message_authenticator=False).RequestPacket()
    senders = [server.nas(STRICT), server.nas(LEGACY), server.nas(STRICT, accounting=True)]
    for _ in range(10):
        for _ in range(50):
            data = bytearray(seed if rng.random() < 0.5 else rng.randbytes(rng.randrange(0, 100)))
            for _ in range(rng.randrange(1, 4)):
                if data:
                    data[rng.randrange(len(data))] = rng.randrange(256)
            rng.choice(senders).send(bytes(data))
        server.handled()  # in batches, so the kernel's socket buffer never overflows
    nas = server.nas(STRICT)
    assert nas.ask(status_server()).code == rp.AccessAccept
    assert nas.ask(access_request("bob", "1234" + RFC4226[0])).code == rp.AccessAccept
    assert "Traceback" not in server.daemon.stderr
    for sender in senders + [nas]:
        sender.close()


def test_sighup_reloads_the_client_table(server: RadiusServer) -> None:
    late = server.nas(LATE)
    late.send(status_server().RequestPacket())
    server.handled()
    assert late.nothing_pending()
    data = dict(server.data)
    data["radius"] = dict(data["radius"], clients=CLIENTS + [{"name": "late", "address": LATE, "secret": SECRET}],
                          reply=[{"attribute": "Filter-Id", "value": "reloaded"}])
    server.config.write_text(tomli_w.dumps(data))
    server.daemon.signal(signal.SIGHUP)
    server.daemon.expect("RELOADING=1")
    server.daemon.expect("READY=1")
    assert f"radius.clients: {len(CLIENTS) + 1} clients" in server.daemon.stderr
    assert late.ask(status_server()).code == rp.AccessAccept
    accepted = late.ask(access_request("alice", "1234" + RFC4226[0]))
    assert accepted.code == rp.AccessAccept
    assert accepted["Filter-Id"] == ["reloaded"] and "Class" not in accepted  # the reply rules were reloaded
    late.close()


def test_workers_share_the_ports_and_a_retransmission_still_gets_the_cached_reply(
        tmp_path: Path) -> None:
    running = start_server(tmp_path, f"sqlite:///{tmp_path / 'tesserad.db'}", workers=2)
    try:
        nas = running.nas()
        for otp in RFC4226[:3]:
            raw = access_request(password="1234" + otp).RequestPacket()
            nas.send(raw)
            first = nas.receive()
            nas.send(raw)
            assert nas.receive() == first and first[0] == rp.AccessAccept
        token = running.token("HOTP1")
        assert (token.count, token.failcount) == (3, 0)
        six = UdpNas(running.auth6, "::1")
        assert six.ask(access_request("bob", "1234" + RFC4226[0], secret=V6_SECRET.encode())).code == rp.AccessAccept
        six.close()
        nas.close()
    finally:
        running.daemon.stop()
        running.daemon.close()


@pytest.mark.parametrize("workers, reuse_port", [(1, False), (2, False), (2, True)])
def test_an_address_in_use_stops_the_start(tmp_path: Path, workers: int, reuse_port: bool) -> None:
    """Whether the port is held plainly or by another tesserad's SO_REUSEPORT workers."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if reuse_port:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    data = daemon_config(tmp_path, server={"workers": workers},
                         radius={"auth_listen": [f"127.0.0.1:{port}"], "clients": CLIENTS})
    daemon = DaemonProcess(tmp_path / "run", write_config(tmp_path, data)).start(wait=False)
    try:
        assert daemon.wait() == 2
        assert (f"radius.auth_listen[0]: cannot listen on udp 127.0.0.1:{port}: Address already in use"
                in daemon.stderr)
        assert not (tmp_path / "data").exists()
    finally:
        daemon.close()
        holder.close()
