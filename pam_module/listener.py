"""The daemon's end of the PAM socket: who may connect, how many connections each may
hold, how much they may send and how long they may take.

Each connection carries request frames one at a time (pam_tesserad.so sends one per
round). A peer is checked with SO_PEERCRED when it connects: root, or a process whose
group is ``pam.allowed_group`` (as its effective group, or as a member of it), else it
is closed at once. A frame longer than ``pam.max_frame``, a payload that breaks the
protocol, or data sent before the previous frame was answered gets an error frame and
the connection is closed. ``pam.idle_timeout`` bounds both the silence between frames
and a whole frame from its first byte, so a peer that trickles a byte at a time is
closed as surely as a silent one. None of this touches any other connection.

Timeouts alone do not keep a local user from locking everybody out: a member of the
allowed group can open many connections and keep each one busy with well-formed requests.
So connections are counted by uid (``Limits``): no uid but root holds more than its
share, and a reserve is kept that only root may use, so that sshd and login (which run
as root) always get a connection, whatever the other users hold together.
"""
from __future__ import annotations

import grp
import pwd
import socket
import struct
import typing
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from twisted.internet.interfaces import IDelayedCall, IReactorTime, ITransport
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from tesserad.pam_module import wire
from tesserad.pam_module.config import PamSection
from tesserad.pam_module.request import Authenticator, PamOutcome, PamReply

_UCRED = struct.Struct("3i")


@dataclass(frozen=True)
class Peer:
    pid: int
    uid: int
    gid: int


def peer_credentials(transport: ITransport) -> Peer:
    """The connecting process as the kernel saw it at connect time (SO_PEERCRED)."""
    sock = transport.getHandle()  # type: ignore[attr-defined]
    pid, uid, gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return Peer(pid, uid, gid)


@dataclass(frozen=True)
class PeerPolicy:
    """Root always; with a group, also processes running with that group or users listed in it.
    Group and members are read once, when the daemon starts (the reactor never waits on NSS)."""

    gid: int | None = None
    member_uids: frozenset[int] = frozenset()

    @classmethod
    def for_group(cls, name: str) -> PeerPolicy:
        if not name:
            return cls()
        group = grp.getgrnam(name)
        uids = set()
        for member in group.gr_mem:
            try:
                uids.add(pwd.getpwnam(member).pw_uid)
            except KeyError:
                continue  # a member name without an account cannot connect anyway
        return cls(group.gr_gid, frozenset(uids))

    def allows(self, peer: Peer) -> bool:
        return peer.uid == 0 or (self.gid is not None and (peer.gid == self.gid or peer.uid in self.member_uids))


@dataclass(frozen=True)
class Limits:
    """Bounds of one listener (with ``server.workers`` each worker process has its own).

    Non-root peers together hold at most ``max_connections - root_reserve`` connections and
    one uid at most ``per_uid`` of them; root is bound only by ``max_connections``. So root
    always finds ``root_reserve`` connections free of other users' (a share per uid alone
    would not do: several uids in the allowed group could still fill every connection).
    """

    max_connections: int = 64
    per_uid: int = 16
    root_reserve: int = 16
    idle_timeout: float = 10.0
    max_frame: int = 8192

    @classmethod
    def from_config(cls, section: PamSection) -> Limits:
        total = section.max_connections
        # At least one connection for root, but never all of them (with a single connection, none).
        reserve = min(total - 1, max(1, total * section.root_reserve_percent // 100))
        return cls(total, max(1, total * section.uid_share_percent // 100), reserve, section.idle_timeout,
                   section.max_frame)

    def refusal(self, uid: int, held: Counter[int]) -> str | None:
        """Why a new connection from ``uid`` does not fit beside those ``held`` (open
        connections by uid), or None when it does."""
        total = held.total()
        if total >= self.max_connections:
            return "too many connections"
        if uid == 0:
            return None
        if total - held[0] >= self.max_connections - self.root_reserve:
            return "too many connections from users other than root"
        if held[uid] >= self.per_uid:
            return "too many connections from this user"
        return None


class StreamTransport(typing.Protocol):
    """What a PAM connection uses of its transport. Twisted's unix and tcp server connections
    have all of it, but ``Protocol.transport`` is declared only as an ITransport."""

    disconnecting: bool

    def write(self, data: bytes) -> None: ...
    def loseConnection(self) -> None: ...
    def abortConnection(self) -> None: ...


class PamConnection(Protocol):
    log = Logger()

    def __init__(self, factory: PamListenerFactory):
        self.factory = factory
        self.reader = wire.FrameReader(factory.limits.max_frame)
        self.peer: Peer | None = None
        self.busy = False
        # The uid this connection counts for in factory.held, once admitted.
        self.holder: int | None = None
        self._idle: IDelayedCall | None = None

    @property
    def _stream(self) -> StreamTransport:
        return cast(StreamTransport, self.transport)

    def connectionMade(self) -> None:
        factory = self.factory
        factory.connections.add(self)
        try:
            self.peer = factory.credentials(self.transport)
        except OSError as exc:
            self.log.warn("PAM connection closed: cannot read its peer credentials: {reason}", reason=exc.strerror)
            self._stream.abortConnection()
            return
        if not factory.policy.allows(self.peer):
            self.log.warn("PAM connection from pid {pid} uid {uid} gid {gid} refused: not root and not in "
                          "pam.allowed_group", pid=self.peer.pid, uid=self.peer.uid, gid=self.peer.gid)
            self._refuse(wire.error("this user or group may not use the PAM socket"))
            return
        refusal = factory.limits.refusal(self.peer.uid, factory.held)
        if refusal is not None:
            self.log.warn("PAM connection from pid {pid} uid {uid} refused: {reason} (pam.max_connections, "
                          "pam.uid_share_percent, pam.root_reserve_percent)", pid=self.peer.pid, uid=self.peer.uid,
                          reason=refusal)
            # The server is full, not the request wrong: the module answers PAM_AUTHINFO_UNAVAIL.
            self._refuse(wire.reply(PamReply(PamOutcome.UNAVAILABLE, refusal)))
            return
        factory.held[self.peer.uid] += 1
        self.holder = self.peer.uid
        self._arm()

    def dataReceived(self, data: bytes) -> None:
        if self.peer is None or self._stream.disconnecting:
            return
        starts_frame = self.reader.pending == 0
        try:
            if self.busy:
                raise wire.FrameError("data arrived before the previous request was answered")
            frames = self.reader.feed(data)
            if len(frames) > 1:
                raise wire.FrameError("a frame arrived before the previous one was answered")
            if frames and self.reader.pending:
                raise wire.FrameError("data arrived before the previous request was answered")
            request = wire.request(wire.decode(frames[0]), self.factory.host) if frames else None
        except wire.FrameError as exc:
            self.log.warn("PAM request from pid {pid} refused: {reason}", pid=self.peer.pid, reason=str(exc))
            self._refuse(wire.error(str(exc)))
            return
        if request is None:
            if starts_frame:
                self._arm()  # the whole frame is due within the idle timeout of its first byte
            return
        self._disarm()
        self.busy = True
        self.factory.authenticator.authenticate(request).addCallback(self._answer).addErrback(self._failed)

    def _answer(self, answer: PamReply) -> None:
        self.busy = False
        if self._stream.disconnecting or self not in self.factory.connections:
            return
        self._stream.write(wire.reply(answer))
        self._arm()

    def _failed(self, failure: Failure) -> None:
        # Authenticators answer UNAVAILABLE themselves; this is a bug, and the module fails closed.
        self.log.failure("a PAM request failed", failure)
        self.busy = False
        self._refuse(wire.error("internal error"))

    def _refuse(self, frame: bytes) -> None:
        self._disarm()
        self._stream.write(frame)
        self._stream.loseConnection()

    def _arm(self) -> None:
        self._disarm()
        self._idle = self.factory.clock.callLater(self.factory.limits.idle_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._idle is not None and self._idle.active():
            self._idle.cancel()
        self._idle = None

    def _timed_out(self) -> None:
        self._idle = None
        what = "did not finish a frame within" if self.reader.pending else "was silent for"
        self.log.info("PAM connection from pid {pid} {what} {seconds} s; closed", pid=self.peer.pid if self.peer
                      else 0, what=what, seconds=self.factory.limits.idle_timeout)
        self._stream.abortConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._disarm()
        self.factory.connections.discard(self)
        if self.holder is not None:
            self.factory.held -= Counter({self.holder: 1})  # in place; drops the uid at zero
            self.holder = None


class PamListenerFactory(Factory):
    noisy = False

    def __init__(self, authenticator: Authenticator, clock: IReactorTime, policy: PeerPolicy, limits: Limits,
                 host: str, credentials: Callable[[Any], Peer] = peer_credentials):
        self.authenticator = authenticator
        self.clock = clock
        self.policy = policy
        self.limits = limits
        self.host = host
        self.credentials = credentials
        self.connections: set[PamConnection] = set()
        # Admitted connections by peer uid (refused ones are only on their way out).
        self.held: Counter[int] = Counter()

    @classmethod
    def from_config(cls, authenticator: Authenticator, clock: IReactorTime, section: PamSection,
                    host: str) -> PamListenerFactory:
        return cls(authenticator, clock, PeerPolicy.for_group(section.allowed_group),
                   Limits.from_config(section), host)

    def buildProtocol(self, addr: Any) -> PamConnection:
        return PamConnection(self)

