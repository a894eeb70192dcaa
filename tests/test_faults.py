"""An outage is not a "no" (issue 16): while tesserad's database is stopped, or while its
LDAP directory hangs, a real daemon answers RADIUS with silence (the NAS fails over to its
next server), PAM with PAM_AUTHINFO_UNAVAIL (pamtester through the real PAM stack and
pam_tesserad.so) and HTTP with 503 in privacyIDEA's error envelope; once the part is
back, logins work again without a restart."""

from __future__ import annotations

import contextlib
import select
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pyrad import packet as rp

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, free_port, until, write_config
from tests.http.test_validate_http import Server
from tests.ldap.conftest import people_config, slapd  # noqa: F401  (a fixture)
from tests.ldap.hung import HungServer
from tests.ldap.slapd import Slapd
from tests.pam.conftest import Build, PamServices, build, services  # noqa: F401  (fixtures)
from tests.pam.test_pam_stack import module_line, pamtester
from tests.pgserver import PostgresServer, throwaway_postgres
from tests.provision import add_realm, provision_hotp_people
from tests.radius.nas import SECRET, UdpNas, access_request, verified_reply
from tests.wired import RFC4226, RFC_SEED_HEX

NOT_ANSWERED = "are not answered, so that it fails over to another server"
UNAVAIL = "cannot retrieve authentication info"  # pam_strerror(PAM_AUTHINFO_UNAVAIL)


@dataclass
class Edges:
    """One daemon with all three edges; ``user`` logs in with PIN 1234 and the next HOTP value."""

    daemon: DaemonProcess
    http: Server
    radius: tuple[str, int]
    pam_service: str
    user: str
    used: int = 0

    def password(self) -> str:
        self.used += 1
        return "1234" + RFC4226[self.used - 1]

    def http_login(self, password: str) -> tuple[int, dict]:
        return self.http.call("/validate/check", {"user": self.user, "pass": password})

    def radius_login(self, password: str) -> int:
        """The reply code; the reply must come."""
        nas = UdpNas(self.radius)
        try:
            req = access_request(self.user, password)
            nas.send(req.RequestPacket())
            return verified_reply(req, nas.receive(20)).code
        finally:
            nas.close()

    def radius_unanswered(self, password: str) -> None:
        """The daemon logs that it leaves the request unanswered, and no reply comes."""
        before = self.daemon.stderr.count(NOT_ANSWERED)
        nas = UdpNas(self.radius)
        try:
            nas.send(access_request(self.user, password).RequestPacket())
            until(lambda: self.daemon.stderr.count(NOT_ANSWERED) > before, "the not-answered warning")
            assert select.select([nas.sock], [], [], 0.5)[0] == [], "a RADIUS reply came"
        finally:
            nas.close()

    def pam_login(self, password: str) -> tuple[int, str]:
        result = pamtester(self.pam_service, self.user, [password])
        return result.returncode, result.stdout

    def all_accept(self) -> None:
        status, body = self.http_login(self.password())
        assert status == 200 and body["result"]["value"] is True, body
        assert self.radius_login(self.password()) == rp.AccessAccept
        code, out = self.pam_login(self.password())
        assert code == 0 and "successfully authenticated" in out, out

    def all_unavailable(self, reason: str) -> None:
        password = self.password()  # never reaches a token: usable again afterwards
        self.used -= 1
        status, body = self.http_login(password)
        assert status == 503 and body["result"]["status"] is False, body
        assert body["result"]["error"]["code"] == 903 and reason in body["result"]["error"]["message"], body
        self.radius_unanswered(password)
        code, out = self.pam_login(password)
        assert code == 1 and UNAVAIL in out, out

    def no_traceback(self) -> None:
        """An outage is an expected fault: warnings, not tracebacks."""
        assert "Traceback" not in self.daemon.stderr, self.daemon.stderr[-3000:]


@contextlib.contextmanager
def running(workdir: Path, db_url: str, build: Build, services: PamServices,
            prepare: Callable[[Path], str] | None = None) -> Iterator[Edges]:
    """A daemon over ``db_url`` with the people of tests.wired in realm example; ``prepare``
    (given the config) may add to the store and returns the user who logs in."""
    socket_dir = Path(tempfile.mkdtemp(prefix="tfault-"))  # Unix socket paths are short
    auth_port = free_port(socket.SOCK_DGRAM)
    data = daemon_config(workdir, database={"url": db_url}, radius={
        "auth_listen": [f"127.0.0.1:{auth_port}"],
        "clients": [{"name": "vpn", "address": "127.0.0.1", "secret": SECRET.decode()}]},
        pam={"listen": [f"unix:{socket_dir / 'pam.sock'}:mode=600"]})
    config = write_config(workdir, data)
    provision_hotp_people(config, workdir / "passwd")
    user = prepare(config) if prepare else "alice"
    daemon = DaemonProcess(workdir / "run", config)
    try:
        daemon.start()
        port = data["web"]["listen"][0].split(":")[1]
        service = services.install(module_line(build, socket_dir / "pam.sock"))
        edges = Edges(daemon, Server(f"http://127.0.0.1:{port}", config, daemon), ("127.0.0.1", auth_port),
                      service, user)
        yield edges
        edges.no_traceback()
    finally:
        daemon.stop()
        daemon.close()
        shutil.rmtree(socket_dir, ignore_errors=True)


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL of this test alone: stopping the session's server would fail other tests."""
    with throwaway_postgres("tesserad-pg-fault-") as server:
        yield server


@pytest.mark.postgresql
def test_a_stopped_database(postgres: PostgresServer, build: Build, services: PamServices,
                            tmp_path: Path) -> None:
    with running(tmp_path, postgres.url, build, services) as edges:
        edges.all_accept()
        postgres.stop()
        edges.all_unavailable("database unreachable")
        postgres.start()
        edges.all_accept()


def test_a_hung_directory(slapd: Slapd, build: Build, services: PamServices,  # noqa: F811
                          tmp_path: Path) -> None:
    target = urlsplit(slapd.ldap_uri)
    relay = HungServer(upstream=(target.hostname or "127.0.0.1", target.port or 389))

    def directory_realm(config: Path) -> str:
        add_realm(config, "directory", "people", "ldapresolver", people_config(
            slapd, LDAPURI=relay.uri, TIMEOUT=1, SERVERPOOL_SKIP=1, CACHE_TIMEOUT=0), default=True,
            tokens=[{"user": "alice", "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "1234"}])
        return "alice"

    try:
        with running(tmp_path, f"sqlite:///{tmp_path / 'tesserad.db'}", build, services, directory_realm) as edges:
            edges.all_accept()
            relay.stall()
            edges.all_unavailable("no LDAP server answered")
            relay.resume()
            # The breaker skips the server for SERVERPOOL_SKIP (1 s) after its last failure:
            # until then the login stays unavailable (503), and the OTP value unused.
            password = edges.password()
            status, body = until(lambda: (answer := edges.http_login(password))[0] != 503 and answer,
                                 "a login after the directory came back")
            assert status == 200 and body["result"]["value"] is True, body
            assert edges.radius_login(edges.password()) == rp.AccessAccept
            code, out = edges.pam_login(edges.password())
            assert code == 0 and "successfully authenticated" in out, out
    finally:
        relay.close()
