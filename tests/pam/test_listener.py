"""The PAM listener in memory: the real protocol over fake transports, Twisted's Clock for
the idle timeout, and the local authenticator over the wired core (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tesserad.core.errors import DatabaseError
from tesserad.pam_module import wire
from tesserad.pam_module.listener import Limits, PamConnection, PamListenerFactory, Peer, PeerPolicy
from tesserad.pam_module.local import LocalAuthenticator
from tesserad.pam_module.request import PamOutcome, PamReply, PamRequest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from tests.helpers import run_inline
from tests.wired import RFC4226, RFC_SEED_HEX, Core

ROOT = Peer(pid=100, uid=0, gid=0)
LOCKER = Peer(pid=200, uid=1000, gid=1234)  # runs with the allowed group
MEMBER = Peer(pid=300, uid=1001, gid=1001)  # listed as a member of it
STRANGER = Peer(pid=400, uid=1002, gid=1002)
POLICY = PeerPolicy(gid=1234, member_uids=frozenset({1001}))


class PeerTransport(StringTransport):
    def __init__(self, peer: Peer):
        super().__init__()
        self.peer = peer


class Held:
    """An authenticator whose answers the test gives."""

    def __init__(self) -> None:
        self.requests: list[tuple[PamRequest, Deferred[PamReply]]] = []

    def authenticate(self, request: PamRequest) -> Deferred[PamReply]:
        d: Deferred[PamReply] = Deferred()
        self.requests.append((request, d))
        return d


class Listener:
    def __init__(self, authenticator: Any, limits: Limits = Limits(max_connections=3, idle_timeout=5)):
        self.clock = Clock()
        self.factory = PamListenerFactory(authenticator, self.clock, POLICY, limits, "host1",
                                          credentials=lambda transport: transport.peer)

    def connect(self, peer: Peer = ROOT) -> PamConnection:
        connection = self.factory.buildProtocol(None)
        connection.makeConnection(PeerTransport(peer))
        return connection


def request_frame(**fields: str) -> bytes:
    return wire.encode({"v": "1", "op": "auth", "user": "alice", **fields})


def replies(connection: PamConnection) -> list[dict[str, str]]:
    reader = wire.FrameReader(wire.MAX_FRAME_LIMIT)
    return [wire.decode(frame) for frame in reader.feed(connection.transport.value())]


def closed(connection: PamConnection) -> bool:
    return bool(connection.transport.disconnecting)


@pytest.fixture
def local(core: Core) -> Listener:
    core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234", serial="H1")
    core.enroll("carol", type="hotp", otpkey=RFC_SEED_HEX, pin="5678", serial="H3")
    core.settings(challenge_response=frozenset({"hotp"}))
    return Listener(LocalAuthenticator(run_inline, core.auth))


def test_accept_reject_and_challenge_through_the_engine(local: Listener, core: Core) -> None:
    conn = local.connect()
    conn.dataReceived(request_frame(password="1234" + RFC4226[0], service="sshd", rhost="192.0.2.1"))
    conn.dataReceived(request_frame(password="1234" + RFC4226[0]))
    assert replies(conn) == [{"v": "1", "result": "accept", "message": ""},
                             {"v": "1", "result": "reject", "message": ""}]
    assert not closed(conn)  # several requests may share a connection

    carol = local.connect()
    carol.dataReceived(request_frame(user="carol", password="5678"))
    [challenge] = replies(carol)
    assert (challenge["result"], challenge["message"]) == ("challenge", "please enter otp: ")
    carol.transport.clear()
    carol.dataReceived(request_frame(user="carol", password=RFC4226[0], state=challenge["state"]))
    assert replies(carol)[0]["result"] == "accept"


def test_garbage_oversized_half_written_and_a_stranger_leave_others_alone(local: Listener) -> None:
    honest = request_frame(password="1234" + RFC4226[0])
    good = local.connect()
    good.dataReceived(honest[:9])  # the honest client is slow
    garbage = local.connect()
    garbage.dataReceived(b"\x00\x00\x00\x05hello")
    oversized = local.connect()
    oversized.dataReceived(b"\x00\x01\x00\x00")
    stranger = local.connect(STRANGER)

    assert [replies(c)[0]["message"] for c in (garbage, oversized, stranger)] == [
        "the payload does not end with a NUL byte", "a frame of 65536 bytes (allowed: 1 to 8192)",
        "this user or group may not use the PAM socket"]
    assert all(closed(c) for c in (garbage, oversized, stranger))
    stranger.dataReceived(request_frame(password="1234" + RFC4226[0]))  # ignored: it is being closed
    assert len(replies(stranger)) == 1
    for c in (garbage, oversized, stranger):
        c.connectionLost()

    half = local.connect()
    half.dataReceived(request_frame(password="1234" + RFC4226[1])[:-3])
    local.clock.advance(4.9)
    good.dataReceived(honest[9:])
    assert replies(good)[0]["result"] == "accept"
    local.clock.advance(0.1)
    assert closed(half) and replies(half) == []
    assert not closed(good)


@pytest.mark.parametrize("payload, reason", [
    ({"op": "auth", "user": "alice"}, "missing field 'v'"),
    ({"v": "2", "op": "auth", "user": "alice"}, "protocol version '2' is not supported (this daemon speaks 1)"),
    ({"v": "1", "op": "chauthtok", "user": "alice"}, "unknown op 'chauthtok'"),
    ({"v": "1", "op": "auth", "user": ""}, "user is empty"),
    ({"v": "1", "op": "auth", "user": "x" * 321}, "user is longer than 320 characters"),
    ({"v": "1", "op": "auth", "user": "al\nice"}, "user contains control characters"),
])
def test_malformed_requests_get_a_precise_error(payload: dict[str, str], reason: str) -> None:
    held = Held()
    conn = Listener(held).connect()
    conn.dataReceived(wire.encode(payload))
    assert replies(conn) == [{"v": "1", "result": "error", "message": reason}]
    assert closed(conn) and held.requests == []


def test_peers_root_the_group_and_its_members_are_allowed() -> None:
    held = Held()
    listener = Listener(held)
    for peer in (ROOT, LOCKER, MEMBER):
        listener.connect(peer).dataReceived(request_frame(password="x"))
    assert [request.user for request, _ in held.requests] == ["alice"] * 3
    assert not PeerPolicy().allows(LOCKER) and PeerPolicy().allows(ROOT)


def test_connection_limit_and_data_before_the_answer() -> None:
    held = Held()
    listener = Listener(held)
    first, second, third = (listener.connect() for _ in range(3))
    fourth = listener.connect()
    assert replies(fourth) == [{"v": "1", "result": "error", "message": "too many connections"}]
    fourth.connectionLost()

    first.dataReceived(request_frame(password="one"))
    first.dataReceived(request_frame(password="two"))  # pipelining is not part of the protocol
    assert closed(first) and replies(first)[0]["message"] == "data arrived before the previous request was answered"
    held.requests[0][1].callback(PamReply(PamOutcome.ACCEPT))
    assert len(replies(first)) == 1  # the answer to a connection being closed is dropped
    first.connectionLost()
    replacement = listener.connect()
    assert not closed(replacement) and not closed(second) and not closed(third)


def test_idle_timeout_runs_between_requests_not_during_one() -> None:
    held = Held()
    listener = Listener(held)
    conn = listener.connect()
    conn.dataReceived(request_frame(password="x"))
    listener.clock.advance(60)  # the engine may take its time
    assert not closed(conn)
    held.requests[0][1].callback(PamReply(PamOutcome.CHALLENGE, "OTP: ", "12345678901234567890"))
    assert replies(conn)[0] == {"v": "1", "result": "challenge", "message": "OTP: ", "state": "12345678901234567890"}
    listener.clock.advance(4.9)
    assert not closed(conn)
    listener.clock.advance(0.1)
    assert closed(conn)


def failing(exc: Exception) -> Callable[..., Deferred[Any]]:
    def run(fn: Callable[..., Any], *args: Any) -> Deferred[Any]:
        return run_inline(lambda *_: (_ for _ in ()).throw(exc), *args)
    return run


@pytest.mark.parametrize("exc", [DatabaseError("cannot use database"), RuntimeError("bug")])
def test_store_errors_and_bugs_answer_unavailable(exc: Exception) -> None:
    authenticator = LocalAuthenticator(failing(exc), auth=None)  # type: ignore[arg-type]
    answers: list[PamReply] = []
    authenticator.authenticate(PamRequest(user="alice", password="1234")).addCallback(answers.append)
    assert answers == [PamReply(PamOutcome.UNAVAILABLE, "the authentication server cannot decide now")]


def test_unknown_user_is_a_reject(local: Listener) -> None:
    conn = local.connect()
    conn.dataReceived(request_frame(user="nobody@nowhere", password="1234"))
    assert replies(conn)[0]["result"] == "reject"

