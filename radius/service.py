"""The RADIUS listeners of one process: a UDP socket per configured address, its protocol,
and the client table that SIGHUP reloads.

Sockets are bound in ``bind``, before the reactor runs and before anything is created on
disk, so an address in use stops the start with its config key named. A single daemon
binds them exclusively. Worker processes each bind their own socket with SO_REUSEPORT on
the same address: the kernel then hashes every NAS (source address and port) to one
worker, whose duplicate cache sees all of that NAS's retransmissions. Their supervisor
test-binds each address exclusively first (``check_bindable``), which also fails when
another tesserad's workers hold it.
"""

from __future__ import annotations

import socket
from typing import Any

from twisted.application.service import Service
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from tesserad.core.context import Context
from tesserad.core.errors import ConfigError, StartupError
from tesserad.radius.accounting import AccountingProtocol
from tesserad.radius.audit import RadiusAudit
from tesserad.radius.clients import ClientTable, load_clients
from tesserad.radius.config import RadiusConfig, parse_host_port
from tesserad.radius.protocol import Runner
from tesserad.radius.server import AuthProtocol
from tesserad.radius.state import StateCodec

AUTH_KEY = "radius.auth_listen"
ACCT_KEY = "radius.acct_listen"


def bind_udp(key: str, address: str, *, reuse_port: bool) -> socket.socket:
    """A bound, non-blocking UDP socket for ``host:port``; StartupError naming ``key``."""
    host, port = parse_host_port(address)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise StartupError(f"{key}: cannot listen on udp {address}: {exc.strerror or exc}") from None
    return sock


def _listen_keys(config: RadiusConfig) -> list[tuple[str, str]]:
    """(indexed config key, address) of every configured RADIUS address."""
    radius = config.radius
    return [(f"{key}[{index}]", address)
            for key, addresses in ((AUTH_KEY, radius.auth_listen), (ACCT_KEY, radius.acct_listen))
            for index, address in enumerate(addresses)]


def check_bindable(config: RadiusConfig) -> None:
    """The supervisor's check before it starts workers: the client table loads and every
    address can be bound exclusively; the test sockets are closed again at once."""
    load_clients(config.radius, config.source)
    for key, address in _listen_keys(config):
        bind_udp(key, address, reuse_port=False).close()


def _host_port(port: IListeningPort) -> str:
    address = port.getHost()
    assert isinstance(address, IPv4Address | IPv6Address)  # a UDP port's address
    return f"{address.host}:{address.port}"


class RadiusService(Service):
    log = Logger()

    def __init__(self, reactor: Any, config: RadiusConfig, *, reuse_port: bool):
        self._reactor = reactor
        self._config = config
        self._reuse_port = reuse_port
        self.clients = ClientTable()
        self._bound: list[tuple[str, socket.socket]] = []
        self._protocols: list[DatagramProtocol] = []
        self.ports: list[IListeningPort] = []

    def bind(self) -> None:
        """Load the client table and bind every address; on failure release what was bound."""
        self.clients = load_clients(self._config.radius, self._config.source)
        try:
            for key, address in _listen_keys(self._config):
                self._bound.append((key, bind_udp(key, address, reuse_port=self._reuse_port)))
        except StartupError:
            self.release()
            raise

    def release(self) -> None:
        """Close the sockets that were bound but never served (a start that failed later)."""
        for _, sock in self._bound:
            sock.close()
        self._bound = []

    def attach(self, run: Runner, context: Context) -> None:
        """Give the bound sockets their protocols, over the core's services."""
        states = StateCodec(context.keys.security)
        audit = RadiusAudit(context.auth)

        def table() -> ClientTable:
            return self.clients
        self._protocols = [
            AuthProtocol(table, context.clock, run, context.auth, states, audit) if key.startswith(AUTH_KEY)
            else AccountingProtocol(table, context.clock, run, audit)
            for key, _ in self._bound]

    def startService(self) -> None:
        Service.startService(self)  # not super(): see untyped_calls_exclude in pyproject.toml
        for (_, sock), protocol in zip(self._bound, self._protocols, strict=True):
            self.ports.append(self._reactor.adoptDatagramPort(sock.fileno(), sock.family, protocol))
        self.release()  # each port listens on its own duplicate of the socket
        if not self.ports:
            return
        self.log.info("RADIUS on {addresses} for {count} clients",
            addresses=", ".join(_host_port(port) for port in self.ports),
            count=len(self.clients))
        if not len(self.clients):
            self.log.warn("no [[radius.clients]] configured: every RADIUS request is dropped until "
                          "clients are added (SIGHUP reloads them)")

    def stopService(self) -> Deferred[Any]:
        Service.stopService(self)
        ports, self.ports = self.ports, []
        return DeferredList([maybeDeferred(port.stopListening) for port in ports])

    def reload(self, old: RadiusConfig, new: RadiusConfig) -> list[str]:
        """SIGHUP: a new client table (secret files, dictionaries and reply rules are read
        again); listen addresses change only with a restart."""
        if (old.radius.auth_listen, old.radius.acct_listen) != (new.radius.auth_listen, new.radius.acct_listen):
            self.log.warn("radius.auth_listen or radius.acct_listen changed; it takes effect after a restart")
        try:
            table = load_clients(new.radius, new.source)
        except ConfigError as exc:
            self.log.error("RADIUS clients and reply rules not reloaded, keeping the running ones: {reason}",
                           reason=str(exc))
            return []
        if table == self.clients:
            return []
        self.clients = table
        return [f"radius.clients: {len(table)} clients"]
