"""The daemon's end of the PAM socket: who may connect, how much they may send, how long
they may stay idle.

Each connection carries request frames one at a time (pam_tesserad.so sends one per
round). A peer is checked with SO_PEERCRED when it connects: root, or a process whose
group is ``pam.allowed_group`` (as its effective group, or as a member of it), else it
is closed at once. A frame longer than ``pam.max_frame``, a payload that breaks the
protocol, or a second frame sent before the first was answered gets an error frame and
the connection is closed; a peer that sends nothing (or half a frame) for
``pam.idle_timeout`` seconds is closed. None of this touches any other connection.
"""
from __future__ import annotations

import grp
import pwd
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tesserad.core.config import PamSection
from tesserad.pam_module import wire
from tesserad.pam_module.request import Authenticator, PamReply
from twisted.internet.interfaces import IDelayedCall, IReactorTime, ITransport
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

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
    max_connections: int = 64
    idle_timeout: float = 10.0
    max_frame: int = 8192


class PamConnection(Protocol):
    log = Logger()

    def __init__(self, factory: PamListenerFactory):
        self.factory = factory
        self.reader = wire.FrameReader(factory.limits.max_frame)
        self.peer: Peer | None = None
        self.busy = False
        self._idle: IDelayedCall | None = None

    def connectionMade(self) -> None:
        factory = self.factory
        factory.connections.add(self)
        try:
            self.peer = factory.credentials(self.transport)
        except OSError as exc:
            self.log.warn("PAM connection closed: cannot read its peer credentials: {reason}", reason=exc.strerror)
            self.transport.abortConnection()
            return
        if not factory.policy.allows(self.peer):
            self.log.warn("PAM connection from pid {pid} uid {uid} gid {gid} refused: not root and not in "
                          "pam.allowed_group", pid=self.peer.pid, uid=self.peer.uid, gid=self.peer.gid)
            self._refuse("this user or group may not use the PAM socket")
            return
        if len(factory.connections) > factory.limits.max_connections:
            self.log.warn("PAM connection from pid {pid} refused: {count} connections open (pam.max_connections)",
                          pid=self.peer.pid, count=len(factory.connections) - 1)
            self._refuse("too many connections")
            return
        self._arm()

    def dataReceived(self, data: bytes) -> None:
        if self.peer is None or self.transport.disconnecting:
            return
        try:
            if self.busy:
                raise wire.FrameError("data arrived before the previous request was answered")
            frames = self.reader.feed(data)
            if len(frames) > 1:
                raise wire.FrameError("a frame arrived before the previous one was answered")
            request = wire.request(wire.decode(frames[0]), self.factory.host) if frames else None
        except wire.FrameError as exc:
            self.log.warn("PAM request from pid {pid} refused: {reason}", pid=self.peer.pid, reason=str(exc))
            self._refuse(str(exc))
            return
        if request is None:
            self._arm()  # part of a frame: the peer has until the idle timeout to finish it
            return
        self._disarm()
        self.busy = True
        self.factory.authenticator.authenticate(request).addCallback(self._answer).addErrback(self._failed)

    def _answer(self, answer: PamReply) -> None:
        self.busy = False
        if self.transport.disconnecting or self not in self.factory.connections:
            return
        self.transport.write(wire.reply(answer))
        self._arm()

    def _failed(self, failure: Failure) -> None:
        # Authenticators answer UNAVAILABLE themselves; this is a bug, and the module fails closed.
        self.log.failure("a PAM request failed", failure)
        self.busy = False
        self._refuse("internal error")

    def _refuse(self, reason: str) -> None:
        self._disarm()
        self.transport.write(wire.error(reason))
        self.transport.loseConnection()

    def _arm(self) -> None:
        self._disarm()
        self._idle = self.factory.clock.callLater(self.factory.limits.idle_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._idle is not None and self._idle.active():
            self._idle.cancel()
        self._idle = None

    def _timed_out(self) -> None:
        self._idle = None
        self.log.info("PAM connection from pid {pid} idle for {seconds} s; closed", pid=self.peer.pid if self.peer
                      else 0, seconds=self.factory.limits.idle_timeout)
        self.transport.abortConnection()

    def connectionLost(self, reason: Failure = Failure(ConnectionError())) -> None:
        self._disarm()
        self.factory.connections.discard(self)


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

    @classmethod
    def from_config(cls, authenticator: Authenticator, clock: IReactorTime, section: PamSection,
                    host: str) -> PamListenerFactory:
        return cls(authenticator, clock, PeerPolicy.for_group(section.allowed_group),
                   Limits(section.max_connections, section.idle_timeout, section.max_frame), host)

    def buildProtocol(self, addr: Any) -> PamConnection:
        return PamConnection(self)

