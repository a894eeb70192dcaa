"""Stream listeners from Twisted endpoint strings, bound eagerly.

Binding happens before the reactor runs and before anything is created on disk, so a
port in use or a bad endpoint string stops the start cleanly with the config key named.
With several worker processes the supervisor binds and hands the sockets over; each
worker adopts them, and the kernel gives every new connection to one of them.
"""

from __future__ import annotations

import os
import socket
import stat
from dataclasses import asdict, dataclass
from typing import Any

from twisted.application.service import Service
from twisted.internet import tcp, unix
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred
from twisted.internet.endpoints import SSL4ServerEndpoint, serverFromString
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure

from tesserad.core.errors import ConfigError, StartupError

# How long a worker leaves new connections on a shared socket to its siblings after taking
# one (it caps a worker at 1,000 new connections/s; keep-alive clients reuse theirs).
ACCEPT_PAUSE_S = 0.001


@dataclass(frozen=True)
class InheritedPort:
    """A listening socket that the supervisor bound, as a worker receives it."""

    key: str
    description: str
    fd: int
    family: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _OneAcceptPerWakeup:
    """Twisted accepts up to 100 pending connections per wake-up; with a socket shared by
    several workers that lets one worker grab a whole burst. One accept per wake-up leaves
    the rest to whichever worker is idle, and the socket stays readable until all are taken.

    That alone is not enough: the worker that accepted polls again first and takes the next
    connection of a burst before a sibling wakes up, and keep-alive clients that connect
    together (a web application's pool, a load balancer, the benchmark) then all stay on one
    worker: measured 16 of 16 connections on one of two workers, half the throughput. So
    after each accept a worker pauses accepting for ACCEPT_PAUSE_S; an idle sibling takes the
    next connection, a busy one leaves it to this worker when the pause ends."""

    reactor: Any
    connected: bool
    disconnecting: bool

    @property
    def numberAccepts(self) -> int:
        return 1

    @numberAccepts.setter
    def numberAccepts(self, _value: int) -> None:
        pass

    def doRead(self) -> None:
        super().doRead()  # type: ignore[misc]
        if self.connected and not self.disconnecting:
            self.stopReading()  # type: ignore[attr-defined]
            self.reactor.callLater(ACCEPT_PAUSE_S, self._resume)

    def _resume(self) -> None:
        if self.connected and not self.disconnecting:
            self.startReading()  # type: ignore[attr-defined]


class _SharedTCPPort(_OneAcceptPerWakeup, tcp.Port):
    pass


class _SharedUNIXPort(_OneAcceptPerWakeup, unix.Port):
    def connectionLost(self, reason: Failure) -> None:
        """Close without removing the socket file: the supervisor owns it, and the sibling
        workers still accept on it."""
        tcp.Port.connectionLost(self, reason)


class StreamListeners(Service):
    """The listening ports of one config key (e.g. ``web.listen``)."""

    def __init__(self, reactor: Any, key: str, descriptions: list[str], factory: IProtocolFactory,
                 source: str):
        self._reactor = reactor
        self._key = key
        self._descriptions = descriptions
        self._factory = factory
        self._source = source
        self.ports: list[IListeningPort] = []

    def bind(self) -> None:
        """Listen on every endpoint now; on any failure release what was bound and raise."""
        try:
            for index, description in enumerate(self._descriptions):
                self.ports.append(self._bind_one(f"{self._key}[{index}]", description))
        except Exception:
            for port in self.ports:
                port.stopListening()
            self.ports = []
            raise

    def _bind_one(self, key: str, description: str) -> IListeningPort:
        try:
            endpoint = serverFromString(self._reactor, description)
        except (ValueError, TypeError, KeyError, IndexError, OSError) as exc:
            raise ConfigError(f"bad endpoint {description!r}: {exc}", path=self._source, key=key) from None
        outcome: list[Any] = []
        endpoint.listen(self._factory).addBoth(outcome.append)
        if not outcome:
            raise StartupError(f"{key}: endpoint {description!r} did not bind at once")
        if isinstance(outcome[0], Failure):
            raise StartupError(f"{key}: cannot listen on {description!r}: {outcome[0].getErrorMessage()}")
        return outcome[0]

    def hand_over(self) -> list[InheritedPort]:
        """The bound sockets for worker processes; this process stops accepting on them
        (its reactor has not run, so it never took a connection) but keeps them open."""
        handed = []
        for index, (description, port) in enumerate(zip(self._descriptions, self.ports, strict=True)):
            port.stopReading()
            handed.append(InheritedPort(f"{self._key}[{index}]", description, port.fileno(),
                                        port.socket.family))
        return handed

    def adopt(self, inherited: list[InheritedPort]) -> None:
        """Serve on sockets a supervisor bound (worker processes)."""
        for item in inherited:
            factory = self._wrapped(item)
            if item.family == socket.AF_UNIX:
                port = _SharedUNIXPort._fromListeningDescriptor(self._reactor, item.fd, factory)
                # startListening chmods the file: keep the supervisor's ``mode=``, not Twisted's 0666.
                port.mode = stat.S_IMODE(os.stat(port._bindPath).st_mode)
            else:
                port = _SharedTCPPort._fromListeningDescriptor(self._reactor, item.fd, item.family, factory)
            port.startListening()
            os.close(item.fd)  # the port listens on its own duplicate
            self.ports.append(port)

    def _wrapped(self, item: InheritedPort) -> IProtocolFactory:
        """The factory as the endpoint would have wrapped it: TLS for ``ssl:`` endpoints.
        Only those are parsed again (a ``systemd:`` one would look for descriptors that only
        the supervisor inherited)."""
        if not item.description.lstrip().startswith("ssl:"):
            return self._factory
        endpoint = serverFromString(self._reactor, item.description)
        if isinstance(endpoint, SSL4ServerEndpoint):
            return TLSMemoryBIOFactory(endpoint._sslContextFactory, False, self._factory)
        return self._factory

    def addresses(self) -> list[Any]:
        return [port.getHost() for port in self.ports]

    def stopService(self) -> Deferred[Any]:
        super().stopService()
        ports, self.ports = self.ports, []
        return DeferredList([maybeDeferred(port.stopListening) for port in ports])
