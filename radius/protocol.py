"""What the authentication and the accounting port share: one datagram's way from the
socket to an answer.

1. The source address must belong to a configured client, else the packet is dropped
   (logged once a minute per address, not per packet).
2. Size, structure, code and authenticators are checked, else the packet is dropped
   (logged once a minute per client).
3. A retransmission of a request in progress is dropped, one of an answered request gets
   the cached reply (``dedupe``).
4. The subclass answers, possibly after work in the core thread pool; the reply is cached
   and sent. A request that cannot be decided now (``Unavailable``: the database or a user
   store does not answer) gets no reply, so the NAS retries or fails over to its next
   server, which may reach them; a reject would lock the user out for the outage. So does
   a request whose answer failed unexpectedly, with the traceback in the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyrad import packet as rp
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from tesserad.core.clock import Clock
from tesserad.core.errors import Unavailable
from tesserad.radius import wire
from tesserad.radius.audit import RadiusAudit
from tesserad.radius.clients import ClientTable, NasClient
from tesserad.radius.dedupe import DuplicateCache, RequestKey, Seen
from tesserad.radius.loglimit import LogLimiter

Runner = Callable[..., Deferred[Any]]
Address = tuple[str, int]


class Dropped(Exception):
    """A packet that gets no answer, for the reason given."""


class RadiusProtocol(DatagramProtocol):
    """Subclasses set ``codes`` (the request codes the port serves) and implement
    ``decode`` (check and decode a packet from ``client`` or raise Dropped) and
    ``answer`` (the reply bytes, or a Deferred of them; work that blocks goes to ``run``,
    the core thread pool)."""

    log = Logger()
    noisy = False
    codes: frozenset[int] = frozenset()

    def __init__(self, clients: Callable[[], ClientTable], clock: Clock, run: Runner, audit: RadiusAudit):
        self._clients = clients
        self._run = run
        self._audit = audit
        self._cache = DuplicateCache(clock)
        self._unknown = LogLimiter(clock)
        self._dropped = LogLimiter(clock)
        self._unanswered = LogLimiter(clock)

    def decode(self, data: bytes, client: NasClient) -> rp.Packet:
        raise NotImplementedError

    def answer(self, pkt: rp.Packet, client: NasClient, host: str) -> bytes | Deferred[bytes]:
        raise NotImplementedError

    def datagramReceived(self, data: bytes, addr: Address) -> None:
        host = addr[0]
        client = self._clients().match(host)
        if client is None:
            if self._unknown.allow(host):
                self.log.warn("dropped RADIUS packets from {host}: not a configured client "
                              "(logged once a minute per address)", host=host)
            return
        try:
            pkt = self._checked(data, client)
        except Dropped as exc:
            self._drop(client, host, str(exc))
            return
        key: RequestKey = (host, addr[1], pkt.id, pkt.authenticator)
        seen = self._cache.begin(key)
        if isinstance(seen, bytes):
            assert self.transport is not None  # a datagram arrived: the port is listening
            self.transport.write(seen, addr)
        elif seen is Seen.NEW:
            d = maybeDeferred(self.answer, pkt, client, host)
            d.addCallbacks(self._send, self._failed, callbackArgs=(key, addr), errbackArgs=(key, client))
        elif seen is Seen.FULL:
            self._drop(client, host, "too many requests in progress")
        else:
            self.log.debug("dropped a retransmission of a request in progress from {host}", host=host)

    def _checked(self, data: bytes, client: NasClient) -> rp.Packet:
        problem = wire.structure_problem(data)
        if problem:
            raise Dropped(problem)
        if data[0] not in self.codes:
            raise Dropped(f"packet code {data[0]} is not served on this port")
        return self.decode(data, client)

    def _drop(self, client: NasClient, host: str, reason: str) -> None:
        if self._dropped.allow(host):
            self.log.warn("dropped a RADIUS packet from client {client} ({host}): {reason} "
                          "(logged once a minute per address)", client=client.name, host=host, reason=reason)

    def _send(self, reply: bytes, key: RequestKey, addr: Address) -> None:
        self._cache.finish(key, reply)
        if self.transport is not None:  # None once the port stopped during the work
            self.transport.write(reply, addr)

    def _failed(self, failure: Failure, key: RequestKey, client: NasClient) -> None:
        self._cache.forget(key)
        if isinstance(failure.value, Unavailable):
            if self._unanswered.allow(client.name):
                self.log.warn("RADIUS requests from client {client} are not answered, so that it fails over to "
                              "another server: {reason} (logged once a minute per client)",
                              client=client.name, reason=failure.getErrorMessage())
            return
        self.log.failure("a RADIUS request from client {client} failed and is not answered", failure,
                         client=client.name)


def decoded(kind: type[rp.Packet], data: bytes, client: NasClient) -> rp.Packet:
    """``data`` as a pyrad packet of ``kind`` under the client's secret, with its
    Message-Authenticator verified (in constant time) if it has one."""
    try:
        pkt = kind(packet=data, secret=client.secret, dict=wire.dictionary())
    except rp.PacketError as exc:
        raise Dropped(f"cannot decode: {exc}") from None
    values = wire.raw_values(pkt, wire.MESSAGE_AUTHENTICATOR)
    if len(values) > 1:
        raise Dropped("more than one Message-Authenticator")
    if values and len(values[0]) != 16:
        raise Dropped(f"a Message-Authenticator of {len(values[0])} octets")
    if values and not pkt.verify_message_authenticator():
        raise Dropped("wrong Message-Authenticator (wrong secret?)")
    return pkt
