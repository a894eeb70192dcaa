"""The RADIUS edge in memory: the real protocols over the wired core (SQLite and
PostgreSQL), a fake datagram transport, and the clock the tests move by hand."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.testing import FakeDatagramTransport
from twisted.logger import Logger, formatEvent

from tesserad.core.policy.store import PolicyStore
from tesserad.core.security.keyfile import KeyFileSecurityModule, KeyMaterial
from tesserad.radius.accounting import AccountingProtocol
from tesserad.radius.audit import RadiusAudit
from tesserad.radius.clients import ClientTable, NasClient
from tesserad.radius.server import AuthProtocol
from tesserad.radius.state import StateCodec

from tests.helpers import run_inline
from tests.radius.nas import SECRET
from tests.wired import Core

NAS = ("127.0.0.1", 40000)


def client(name: str, address: str, secret: bytes = SECRET, **options: Any) -> NasClient:
    return NasClient(name, ipaddress.ip_network(address), secret, **options)


CLIENTS = ClientTable([
    client("vpn", "127.0.0.1"),
    client("legacy", "127.0.0.2", require_message_authenticator=False),
    client("legacy-proxy", "127.0.0.3", require_message_authenticator=False, limit_proxy_state=False),
    client("lab", "10.0.0.0/8", b"other-secret", realm="example"),
    client("v6", "::1"),
])


class HeldRunner:
    """A core executor whose work runs only when the test releases it, so a request can
    be caught in progress."""

    def __init__(self) -> None:
        self.held: list[tuple[Deferred[Any], Callable[..., Any], tuple[Any, ...]]] = []

    def __call__(self, fn: Callable[..., Any], *args: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.held.append((d, fn, args))
        return d

    def release(self) -> None:
        held, self.held = self.held, []
        for d, fn, args in held:
            d.callback(fn(*args))


@dataclass
class Edge:
    core: Core
    auth: AuthProtocol
    accounting: AccountingProtocol
    states: StateCodec
    policies: PolicyStore
    events: list[dict[str, Any]] = field(default_factory=list)

    def send(self, data: bytes, source: tuple[str, int] = NAS, *, accounting: bool = False) -> list[bytes]:
        """Deliver a datagram; the replies written to ``source`` by it."""
        protocol = self.accounting if accounting else self.auth
        written = protocol.transport.written
        before = len(written)
        protocol.datagramReceived(data, source)
        assert all(addr == source for _, addr in written[before:])
        return [packet for packet, _ in written[before:]]

    def log_lines(self) -> list[str]:
        return [formatEvent(event) for event in self.events]


def build_edge(core: Core, run: Callable[..., Deferred[Any]] = run_inline,
               clients: Callable[[], ClientTable] = lambda: CLIENTS) -> Edge:
    states = StateCodec(KeyFileSecurityModule(KeyMaterial.generate()))
    audit = RadiusAudit(core.auth)
    policies = PolicyStore(core.clock)
    edge = Edge(core, AuthProtocol(clients, core.clock, run, core.auth, states, audit),
                AccountingProtocol(clients, core.clock, run, audit), states, policies)
    for protocol in (edge.auth, edge.accounting):
        protocol.log = Logger(observer=edge.events.append)
        protocol.makeConnection(FakeDatagramTransport())
    return edge


@pytest.fixture
def edge(core: Core) -> Iterator[Edge]:
    yield build_edge(core)
