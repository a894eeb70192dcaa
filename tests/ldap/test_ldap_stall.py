"""A hung directory does not stall the daemon (privacyIDEA #505, #549): a real tesserad
with a realm whose LDAP server accepts connections and never answers. While logins of
that realm hang, logins of the flat-file realm over HTTP and RADIUS are answered at
their normal latency; the hung logins are answered "unavailable" (HTTP 503, no RADIUS
answer) within the configured timeout, and once the breaker has tripped at once."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from pyrad import packet as rp

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, free_port, write_config
from tests.http.test_validate_http import Server
from tests.ldap.hung import HungServer
from tests.provision import add_realm, provision_hotp_people
from tests.radius.nas import SECRET, UdpNas, access_request
from tests.wired import RFC4226

TIMEOUT = 2
NORMAL = 1.0  # seconds a flat-file login may take on a loaded CI machine; well below TIMEOUT


@dataclass
class Stalled:
    http: Server
    radius: tuple[str, int]
    hung: HungServer


@pytest.fixture(scope="module")
def stalled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stalled]:
    tmp_path = tmp_path_factory.mktemp("stall")
    hung = HungServer()
    auth_port = free_port(socket.SOCK_DGRAM)
    data = daemon_config(tmp_path, database={"url": f"sqlite:///{tmp_path / 'tesserad.db'}"}, radius={
        "auth_listen": [f"127.0.0.1:{auth_port}"],
        "clients": [{"name": "vpn", "address": "127.0.0.1", "secret": SECRET.decode()}]})
    config = write_config(tmp_path, data)
    provision_hotp_people(config, tmp_path / "passwd")
    add_realm(config, "directory", "hungdir", "ldapresolver", {
        "LDAPURI": hung.uri, "LDAPBASE": "dc=example,dc=com", "BINDDN": "cn=reader,dc=example,dc=com",
        "BINDPW": "reader-secret", "LOGINNAMEATTRIBUTE": "uid", "USERINFO": "{}",
        "TIMEOUT": str(TIMEOUT), "SERVERPOOL_SKIP": "600"})
    daemon = DaemonProcess(tmp_path / "run", config).start()
    port = data["web"]["listen"][0].split(":")[1]
    try:
        yield Stalled(Server(f"http://127.0.0.1:{port}", config, daemon), ("127.0.0.1", auth_port), hung)
    finally:
        daemon.stop()
        daemon.close()
        hung.close()


def timed(call, *args, **kwargs):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


def radius_login(server: tuple[str, int], user: str, password: str) -> tuple[int | None, float]:
    """(reply code or None for no answer within 10 s, seconds)."""
    nas = UdpNas(server)
    try:
        req = access_request(user, password)
        started = time.monotonic()
        nas.send(req.RequestPacket())
        try:
            raw = nas.receive(10)
        except AssertionError:
            return None, time.monotonic() - started
        return req.CreateReply(packet=raw).code, time.monotonic() - started
    finally:
        nas.close()


def test_other_realms_carry_on_while_the_directory_hangs(stalled: Stalled) -> None:
    with ThreadPoolExecutor(4) as pool:
        hanging: list[Future] = [
            pool.submit(timed, stalled.http.call, "/validate/check", {"user": "dave@directory", "pass": "1234"}),
            pool.submit(timed, stalled.http.call, "/validate/check", {"user": "erin@directory", "pass": "1234"}),
            pool.submit(radius_login, stalled.radius, "frank@directory", "1234"),
        ]
        stalled.hung.wait_for_connections(1)  # the directory now holds at least one login
        (status, body), took = timed(stalled.http.call, "/validate/check",
                                     {"user": "alice", "pass": "1234" + RFC4226[0]})
        assert status == 200 and body["result"]["value"] is True, body
        assert took < NORMAL
        code, took = radius_login(stalled.radius, "bob", "1234" + RFC4226[0])
        assert code == rp.AccessAccept and took < NORMAL
        assert not all(f.done() for f in hanging)  # answered while the directory still hung

        for future in hanging[:2]:
            (status, body), took = future.result(30)
            assert status == 503 and body["result"]["error"]["code"] == 903, body
            assert "no LDAP server answered" in body["result"]["error"]["message"]
            assert took < TIMEOUT + NORMAL  # the configured timeout, not more
        code, took = hanging[2].result(30)
        assert code is None  # not a reject: the NAS fails over to its next server

    # The breaker has tripped: the next login of the realm fails at once, with the reason.
    (status, body), took = timed(stalled.http.call, "/validate/check", {"user": "dave@directory", "pass": "1"})
    assert status == 503 and "skipped after a recent failure" in body["result"]["error"]["message"]
    assert took < NORMAL
    assert "reader-secret" not in stalled.http.daemon.stderr
