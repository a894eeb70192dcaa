"""The daemon's outbox sender on a hand-moved reactor clock: it polls, hands messages to
their transport without waiting for the network in a core thread, keeps each channel
within its concurrency, and records every outcome."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from tesserad.core.outbox import LOADERS, DeliveryError, Outbox, OutboxSettings, Outgoing
from tesserad.core.store.models import OutboxMessage
from tesserad.daemon.outbox import OutboxSender

from tests.helpers import run_inline
from tests.outbox.test_queue import _settings
from tests.wired import Core


class HeldTransport:
    """Keeps each send open until the test fires it, as a slow network would."""

    def __init__(self) -> None:
        self.open: list[tuple[Outgoing, Deferred[None]]] = []

    def send(self, message: Outgoing) -> Deferred[None]:
        d: Deferred[None] = Deferred()
        self.open.append((message, d))
        return d


@pytest.fixture
def outbox(core: Core, monkeypatch: pytest.MonkeyPatch) -> Outbox:
    monkeypatch.setitem(LOADERS, "test", _settings)
    return Outbox(core.tokens.security, core.clock, core.auditor, OutboxSettings(retry_delays=(10,)))


@pytest.fixture
def transport() -> HeldTransport:
    return HeldTransport()


@pytest.fixture
def sender(core: Core, outbox: Outbox, transport: HeldTransport) -> Iterator[tuple[OutboxSender, Clock]]:
    reactor = Clock()
    service = OutboxSender(reactor, run_inline, core.database, outbox, {"test": transport},
                           poll_interval=0.5, batch=4, per_channel=2)
    yield service, reactor
    if service.running:
        service.stopService()


def _enqueue(core: Core, outbox: Outbox, channel: str, count: int = 1) -> None:
    with core.database.session() as session:
        for _ in range(count):
            outbox.enqueue(session, channel, "alice@example.org", {"body": "123456"})
        session.commit()


def _states(core: Core) -> list[str]:
    with core.database.session() as session:
        return [row.state for row in session.query(OutboxMessage).order_by(OutboxMessage.id)]


def test_pending_messages_are_sent_at_start_and_marked_sent(core: Core, outbox: Outbox, transport: HeldTransport,
                                                            sender: tuple[OutboxSender, Clock]) -> None:
    service, reactor = sender
    _enqueue(core, outbox, "test:a", 2)
    service.startService()
    reactor.advance(0)
    assert len(transport.open) == 2
    for _, d in transport.open:
        d.callback(None)
    assert _states(core) == ["sent", "sent"]


def test_a_channel_never_has_more_than_its_concurrency_in_flight(
        core: Core, outbox: Outbox, transport: HeldTransport, sender: tuple[OutboxSender, Clock]) -> None:
    service, reactor = sender
    _enqueue(core, outbox, "test:a", 5)
    _enqueue(core, outbox, "test:b", 1)
    service.startService()
    reactor.advance(0)
    assert sorted(m.channel for m, _ in transport.open) == ["test:a", "test:a", "test:b"]
    reactor.advance(0.5)
    assert len(transport.open) == 3
    transport.open[0][1].callback(None)
    reactor.advance(0.5)
    assert [m.channel for m, _ in transport.open[3:]] == ["test:a"]


def test_the_batch_bounds_what_one_process_sends_at_once(
        core: Core, outbox: Outbox, transport: HeldTransport, sender: tuple[OutboxSender, Clock]) -> None:
    service, reactor = sender
    for channel in ("test:a", "test:b", "test:c"):
        _enqueue(core, outbox, channel, 2)
    service.startService()
    reactor.advance(0)
    assert len(transport.open) == 4
    transport.open[0][1].callback(None)
    reactor.advance(0)
    assert len(transport.open) == 5


def test_a_failed_send_is_retried_after_the_delay(core: Core, outbox: Outbox, transport: HeldTransport,
                                                  sender: tuple[OutboxSender, Clock]) -> None:
    service, reactor = sender
    _enqueue(core, outbox, "test:a")
    service.startService()
    reactor.advance(0)
    transport.open[0][1].errback(DeliveryError("421 try later"))
    assert _states(core) == ["pending"]
    core.clock.advance(10)
    reactor.advance(0.5)
    assert [m.attempt for m, _ in transport.open] == [1, 2]
    transport.open[1][1].callback(None)
    assert _states(core) == ["sent"]


def test_an_unexpected_transport_error_is_recorded_by_its_class_only(
        core: Core, outbox: Outbox, transport: HeldTransport, sender: tuple[OutboxSender, Clock]) -> None:
    service, reactor = sender
    _enqueue(core, outbox, "test:a")
    service.startService()
    reactor.advance(0)
    transport.open[0][1].errback(ValueError("body 123456"))
    with core.database.session() as session:
        assert session.query(OutboxMessage.last_error).scalar() == "transport error ValueError"


def test_a_channel_kind_without_transport_fails_permanently(core: Core, outbox: Outbox,
                                                            sender: tuple[OutboxSender, Clock]) -> None:
    service, reactor = sender
    _enqueue(core, outbox, "test:a")
    service._transports = {}
    service.startService()
    reactor.advance(0)
    assert _states(core) == ["failed"]


def test_stopping_waits_for_the_sends_under_way(core: Core, outbox: Outbox, transport: HeldTransport,
                                                sender: tuple[OutboxSender, Clock]) -> None:
    service, reactor = sender
    _enqueue(core, outbox, "test:a")
    service.startService()
    reactor.advance(0)
    stopped = service.stopService()
    assert not stopped.called
    transport.open[0][1].callback(None)
    assert stopped.called
    assert _states(core) == ["sent"]
    assert reactor.getDelayedCalls() == []


def test_ended_messages_are_purged_every_hour(core: Core, outbox: Outbox, transport: HeldTransport,
                                             sender: tuple[OutboxSender, Clock]) -> None:
    service, reactor = sender
    _enqueue(core, outbox, "test:a")
    service.startService()
    reactor.advance(0)
    transport.open[0][1].callback(None)
    core.clock.advance(7 * 86400 + 1)
    reactor.advance(3599)
    assert _states(core) == ["sent"]
    reactor.advance(1)
    assert _states(core) == []
