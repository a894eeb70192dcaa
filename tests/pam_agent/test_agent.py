"""Agent mode end to end: a central tesserad serving HTTPS (test CA) and an agent process
with UpstreamAuthenticator and its offline cache, on loopback. The agent uses only the
public privacyIDEA API of the central, as it would with privacyIDEA."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tesserad.core.context import Context
from tesserad.core.machines import service
from tesserad.core.tokens import oath
from tesserad.daemon import config as configuration
from tesserad.pam_module import wire

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, free_port, write_config
from tests.ldap.slapd import CertAuthority, make_ca
from tests.provision import provision_hotp_people
from tests.wired import RFC_SEED_HEX

SEED = bytes.fromhex(RFC_SEED_HEX)
ROOT = Path(__file__).resolve().parents[2]


def hotp(counter: int) -> str:
    return oath.hotp(SEED, counter)


class AgentProcess:
    """The driver (tests/pam_agent/driver.py) as a process: one JSON line in, one out."""

    def __init__(self, config: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.pam_agent.driver", str(config)], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(self, command: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command).encode() + b"\n")
        self.proc.stdin.flush()
        readable, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert readable, "the agent did not answer"
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read().decode() if self.proc.stderr else "agent exited"
        return json.loads(line)

    def login(self, user: str, password: str, state: str | None = None) -> dict[str, Any]:
        return self.send({"op": "auth", "user": user, "password": password, "state": state, "host": "pam1"})

    def settle(self) -> None:
        assert self.send({"op": "settle"}) == {"settled": True}

    def close(self) -> str:
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=20)
        return self.proc.stderr.read().decode()


class Central:
    def __init__(self, tmp_path: Path, ca: CertAuthority):
        self.port = free_port()
        listen = f"ssl:{self.port}:interface=127.0.0.1:privateKey={ca.key_file}:certKey={ca.cert_file}"
        self.config = write_config(tmp_path, daemon_config(tmp_path, web={"listen": [listen]}), "central.toml")
        self.run = tmp_path / "central-run"
        self.daemon: DaemonProcess | None = None

    def start(self) -> None:
        self.daemon = DaemonProcess(self.run, self.config).start()

    def stop(self) -> None:
        assert self.daemon is not None
        self.daemon.stop()
        self.daemon.close()
        self.daemon = None


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertAuthority:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory, ca: CertAuthority) -> Iterator[Central]:
    """One central for the module: the tests that leave alice's token alone run first."""
    tmp_path = tmp_path_factory.mktemp("central")
    central = Central(tmp_path, ca)
    provision_hotp_people(central.config, tmp_path / "passwd")
    ctx = Context.open(configuration.load(str(central.config), env={}))
    try:
        with ctx.database.session() as session:
            service.attach(session, "HOTP1", "offline", {"count": "6", "rounds": "200"})
            service.attach(session, "HOTP3", "offline", {"count": "6", "rounds": "200"})  # carol, challenges
            session.commit()
    finally:
        ctx.close()
    central.start()
    yield central
    if central.daemon is not None:
        central.stop()


def agent_config(tmp_path: Path, central: Central, ca_file: Path) -> Path:
    data = {"server": {"data_dir": str(tmp_path / "agent")},
            "pam": {"upstream": f"https://localhost:{central.port}", "upstream_ca_file": str(ca_file),
                    "upstream_timeout": 3, "offline_refill_threshold": 4}}
    return write_config(tmp_path, data, "agent.toml")


@pytest.fixture
def agent(tmp_path: Path, central: Central, ca: CertAuthority) -> Iterator[AgentProcess]:
    process = AgentProcess(agent_config(tmp_path, central, ca.ca_file))
    yield process
    stderr = process.close()
    assert hotp(2) not in stderr and "1234" + hotp(2) not in stderr


def cached(tmp_path: Path) -> dict[str, str]:
    (path,) = (tmp_path / "agent" / "offline").glob("*.HOTP1.json")
    assert path.stat().st_mode & 0o777 == 0o600
    return json.loads(path.read_text())["hashes"]


def test_challenge_through_the_agent(central: Central, agent: AgentProcess) -> None:
    reply = agent.login("carol", "5678")
    assert reply["outcome"] == "challenge" and reply["message"] and len(reply["state"]) == 20
    assert agent.login("carol", hotp(0), state=reply["state"])["outcome"] == "accept"
    assert agent.login("nobody", "1234" + hotp(0))["outcome"] == "reject"


def test_offline_bag_after_a_challenge(tmp_path: Path, central: Central, agent: AgentProcess) -> None:
    """PIN, challenge, OTP: the answer's bag (OTP values alone) logs carol in offline."""
    reply = agent.login("carol", "5678")
    assert reply["outcome"] == "challenge"
    assert agent.login("carol", hotp(7), state=reply["state"])["outcome"] == "accept"
    (path,) = (tmp_path / "agent" / "offline").glob("*.HOTP3.json")
    assert sorted(json.loads(path.read_text())["hashes"], key=int) == ["8", "9", "10", "11", "12", "13"]
    offline = agent.login("carol", hotp(9))
    assert offline["outcome"] == "accept" and offline["extra"]["offline"] == "1"
    assert agent.login("carol", hotp(9))["outcome"] != "accept"  # burnt with the earlier ones


def test_wrong_ca_is_unavailable(tmp_path: Path, central: Central, ca: CertAuthority) -> None:
    process = AgentProcess(agent_config(tmp_path, central, ca.other_ca_file))
    try:
        assert process.login("alice", "1234" + hotp(0))["outcome"] == "unavailable"
    finally:
        process.close()


def test_agent_daemon_pam_socket(tmp_path: Path, central: Central, ca: CertAuthority) -> None:
    """A real agent daemon: its PAM listener forwards to the central."""
    sock = tmp_path / "pam.sock"
    data = daemon_config(tmp_path, pam={"listen": [f"unix:{sock}:mode=600"],
                                        "upstream": f"https://localhost:{central.port}",
                                        "upstream_ca_file": str(ca.ca_file), "upstream_timeout": 3})
    daemon = DaemonProcess(tmp_path / "agent-run", write_config(tmp_path, data, "agent-daemon.toml")).start()
    try:
        assert pam_login(sock, "bob", "1234" + hotp(0))["result"] == "accept"
        assert pam_login(sock, "bob", "1234" + hotp(0))["result"] == "reject"  # used up at the central
    finally:
        daemon.stop()
        daemon.close()


def pam_login(sock: Path, user: str, password: str) -> dict[str, str]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(20)
        client.connect(str(sock))
        client.sendall(wire.encode({"v": wire.VERSION, "op": "auth", "user": user, "password": password}))
        received = b""
        while len(received) < wire.HEADER.size or len(received) < wire.HEADER.size + wire.HEADER.unpack(
                received[:wire.HEADER.size])[0]:
            chunk = client.recv(4096)
            assert chunk, "the agent daemon closed the connection"
            received += chunk
    return wire.decode(received[wire.HEADER.size:])


def test_online_offline_refill(tmp_path: Path, central: Central, agent: AgentProcess) -> None:
    assert agent.login("alice", "1234" + hotp(0))["outcome"] == "accept"
    assert sorted(cached(tmp_path), key=int) == ["1", "2", "3", "4", "5", "6"]
    assert agent.login("alice", "1234" + "000000")["outcome"] == "reject"  # online, not in the bag
    central.stop()
    # Offline: a later value logs in once and burns the earlier ones.
    reply = agent.login("alice", "1234" + hotp(2))
    assert reply["outcome"] == "accept" and reply["extra"]["offline"] == "1"
    for used in (hotp(2), hotp(1)):
        assert agent.login("alice", "1234" + used)["outcome"] == "unavailable"
    assert agent.login("alice", "9999" + hotp(3))["outcome"] == "unavailable"  # wrong PIN
    assert agent.login("alice", "1234" + hotp(3))["outcome"] == "accept"  # 3 left: refill tried, postponed
    agent.settle()
    assert sorted(cached(tmp_path), key=int) == ["4", "5", "6"]
    central.start()
    # Back online: the next offline login refills what was used (counters 7..10).
    assert agent.login("alice", "1234" + hotp(4))["outcome"] == "accept"
    agent.settle()
    assert sorted(cached(tmp_path), key=int) == ["5", "6", "7", "8", "9", "10"]
    assert agent.login("alice", "1234" + hotp(8))["outcome"] == "accept"
    assert agent.login("alice", "1234" + hotp(7))["outcome"] == "reject"  # burnt; online it is dead too
