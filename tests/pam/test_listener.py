"""The PAM listener in memory: the real protocol over fake transports, Twisted's Clock for
the idle and frame timeouts, connection limits per uid, and the local authenticator over
the wired core (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from tesserad.core.errors import DatabaseUnavailable
from tesserad.core.users.base import ResolverError, UserStoreUnavailable
from tesserad.pam_module import wire
from tesserad.pam_module.config import PamSection
from tesserad.pam_module.listener import Limits, PamConnection, PamListenerFactory, Peer, PeerPolicy
from tesserad.pam_module.local import LocalAuthenticator
from tesserad.pam_module.request import PamOutcome, PamReply, PamRequest

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
    def __init__(self, authenticator: Any,
                 limits: Limits = Limits(max_connections=3, per_uid=2, root_reserve=1, idle_timeout=5)):
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
    # A full server is not a bad request: the module answers PAM_AUTHINFO_UNAVAIL.
    assert replies(fourth) == [{"v": "1", "result": "unavailable", "message": "too many connections"}]
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


class Raising:
    """An AuthService whose every decision fails with ``exc``."""

    def __init__(self, exc: Exception):
        self.exc = exc

    def authenticate(self, *_: Any) -> None:
        raise self.exc


UNAVAILABLE = PamReply(PamOutcome.UNAVAILABLE, "the authentication server cannot decide now")


@pytest.mark.parametrize(("exc", "answer"), [
    (DatabaseUnavailable("database unreachable: connection refused"), UNAVAILABLE),
    (UserStoreUnavailable("resolver dir: no LDAP server answered"), UNAVAILABLE),
    (RuntimeError("bug"), UNAVAILABLE),
    # The store answered, and every server would hear the same: a reject, not a fallback.
    (ResolverError("resolver dir: LDAPBASE: missing"), PamReply(PamOutcome.REJECT)),
])
def test_an_unreachable_store_or_a_bug_is_unavailable_a_refusing_store_a_reject(exc: Exception,
                                                                               answer: PamReply) -> None:
    authenticator = LocalAuthenticator(run_inline, auth=Raising(exc))  # type: ignore[arg-type]
    answers: list[PamReply] = []
    authenticator.authenticate(PamRequest(user="alice", password="1234")).addCallback(answers.append)
    assert answers == [answer]


def test_unknown_user_is_a_reject(local: Listener) -> None:
    conn = local.connect()
    conn.dataReceived(request_frame(user="nobody@nowhere", password="1234"))
    assert replies(conn)[0]["result"] == "reject"



def test_a_trickled_frame_is_closed_within_the_idle_timeout_of_its_first_byte() -> None:
    held = Held()
    listener = Listener(held)
    conn = listener.connect(LOCKER)
    frame = request_frame(password="x")
    listener.clock.advance(4.9)  # silence before the frame is allowed up to the idle timeout
    for sent in range(1, 11):
        conn.dataReceived(frame[sent - 1:sent])  # one byte a second: each used to re-arm the timer
        listener.clock.advance(1)
        if closed(conn):
            break
    assert sent == 5 and listener.clock.seconds() == 4.9 + 5  # the first byte came at 4.9
    assert replies(conn) == [] and held.requests == []


def test_each_frame_has_its_own_deadline_and_trailing_bytes_are_refused() -> None:
    held = Held()
    listener = Listener(held)
    conn = listener.connect()
    frame = request_frame(password="x")
    conn.dataReceived(frame[:3])
    listener.clock.advance(4)
    conn.dataReceived(frame[3:])
    held.requests[0][1].callback(PamReply(PamOutcome.REJECT))
    listener.clock.advance(4)
    conn.dataReceived(frame[:3])  # the next frame's deadline starts at its own first byte
    listener.clock.advance(4.9)
    assert not closed(conn)
    conn.dataReceived(frame[3:])
    assert len(held.requests) == 2 and not closed(conn)

    eager = listener.connect()
    eager.dataReceived(frame + b"\x00")
    assert replies(eager) == [{"v": "1", "result": "error",
                               "message": "data arrived before the previous request was answered"}]
    assert closed(eager) and len(held.requests) == 2


OTHER = Peer(pid=500, uid=1003, gid=1234)  # a second user with the allowed group


def test_one_user_holds_its_share_and_users_together_leave_roots_reserve() -> None:
    listener = Listener(Held(), Limits(max_connections=8, per_uid=3, root_reserve=2, idle_timeout=5))

    def refusal(peer: Peer) -> str | None:
        connection = listener.connect(peer)
        if not closed(connection):
            return None
        [answer] = replies(connection)
        assert answer["result"] == "unavailable"
        connection.connectionLost()  # a refused connection never counted
        return answer["message"]

    lockers = [listener.connect(LOCKER) for _ in range(3)]
    assert refusal(LOCKER) == "too many connections from this user"
    assert [refusal(MEMBER) for _ in range(4)] == [None, None, None, "too many connections from users other than root"]
    assert refusal(OTHER) == "too many connections from users other than root"
    assert [refusal(ROOT) for _ in range(3)] == [None, None, "too many connections"]
    assert listener.factory.held == {LOCKER.uid: 3, MEMBER.uid: 3, ROOT.uid: 2}

    lockers[0].connectionLost()
    assert refusal(OTHER) is None  # a freed connection is anybody's again
    assert refusal(LOCKER) == "too many connections"


@pytest.mark.parametrize("total, share, reserve, expected", [
    (64, 25, 25, (16, 16)), (3, 25, 25, (1, 1)), (2, 100, 99, (2, 1)), (1, 50, 50, (1, 0)), (10, 50, 10, (5, 1)),
])
def test_shares_become_counts_that_leave_root_a_connection(total: int, share: int, reserve: int,
                                                            expected: tuple[int, int]) -> None:
    section = PamSection(max_connections=total, uid_share_percent=share, root_reserve_percent=reserve)
    limits = Limits.from_config(section)
    assert (limits.per_uid, limits.root_reserve) == expected
