"""``OutboxSender``: a service that polls the outbox, sends, and records the outcome."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from tesserad.core.errors import Unavailable
from tesserad.core.outbox import DeliveryError, Outbox, Outgoing
from tesserad.core.store import Database

# Seconds between purges of ended messages.
PURGE_INTERVAL = 3600.0
# executor.run: runs a core function in the core thread pool, its result as a Deferred.
Run = Callable[..., "Deferred[Any]"]


class Transport(Protocol):
    """Delivers one message of its channel kind on the reactor; fails with DeliveryError."""

    def send(self, message: Outgoing) -> Deferred[None]: ...


class OutboxSender(Service):
    log = Logger()

    def __init__(self, reactor: IReactorTime, run: Run, database: Database, outbox: Outbox,
                 transports: Mapping[str, Transport], *, poll_interval: float = 0.5, batch: int = 50,
                 per_channel: int = 10, keep: timedelta = timedelta(days=7)):
        self._reactor = reactor
        self._run = run
        self._database = database
        self._outbox = outbox
        self._transports = transports
        self._poll_interval = poll_interval
        self._batch = batch
        self._per_channel = per_channel
        self._keep = keep
        self._purger = LoopingCall(self._purge)
        self._purger.clock = reactor
        self._busy: dict[str, int] = {}
        self._sending: set[Deferred[None]] = set()
        self._timer: IDelayedCall | None = None
        self._polling = False
        # The last poll found no room: a finishing delivery polls again at once.
        self._saturated = False
        # Outcomes waiting for the settle under way (``_settling``) to end.
        self._results: list[tuple[Outgoing, DeliveryError | None, Deferred[None]]] = []
        self._settling: Deferred[None] | None = None

    def startService(self) -> None:
        super().startService()
        self.wake()
        self._purger.start(PURGE_INTERVAL, now=False).addErrback(
            lambda failure: self._log_failure("outbox: purging ended messages stopped", failure))

    def _purge(self) -> Deferred[Any]:
        """Delete ended messages older than ``keep`` (every process does it; deleting twice is harmless)."""
        d = self._run(self._purge_now)
        d.addErrback(lambda failure: self._log_failure("outbox: purging ended messages failed", failure))
        return d

    def _purge_now(self) -> int:
        with self._database.session() as session:
            purged = self._outbox.purge(session, self._keep)
            session.commit()
            return purged

    def wake(self, delay: float = 0.0) -> None:
        """Poll after ``delay`` seconds, unless a poll is running or due sooner."""
        if not self.running or self._polling:
            return
        if self._timer is not None and self._timer.active():
            if self._timer.getTime() <= self._reactor.seconds() + delay:
                return
            self._timer.cancel()
        self._timer = self._reactor.callLater(delay, self._poll)

    def _poll(self) -> None:
        self._timer = None
        room = self._batch - len(self._sending)
        if room <= 0:
            self._saturated = True
            return
        self._polling = True
        d = self._run(self._claim, room, dict(self._busy))
        d.addCallbacks(self._claimed, self._claim_failed)

    def _claim(self, room: int, busy: dict[str, int]) -> list[Outgoing]:
        with self._database.session() as session:
            return self._outbox.claim(session, room, busy=busy, per_channel=self._per_channel)

    def _claimed(self, messages: list[Outgoing]) -> None:
        self._polling = False
        for message in messages:
            self._start(message)
        if len(self._sending) >= self._batch:
            self._saturated = True  # the first delivery to finish polls again
        else:
            self.wake(0.0 if messages else self._poll_interval)

    def _claim_failed(self, failure: Failure) -> None:
        self._polling = False
        self._log_failure("outbox: claiming messages failed", failure)
        self.wake(self._poll_interval)

    def _log_failure(self, what: str, failure: Failure, **fields: Any) -> None:
        """An unreachable database is an expected fault (a warning, retried at the next
        poll); anything else is a bug and is logged with its traceback."""
        if failure.check(Unavailable):
            self.log.warn(what + ": {reason}", reason=str(failure.value), **fields)
        else:
            self.log.failure(what, failure, **fields)

    def _start(self, message: Outgoing) -> None:
        self._busy[message.channel] = self._busy.get(message.channel, 0) + 1
        transport = self._transports.get(message.kind)
        if transport is None:
            d: Deferred[Any] = maybeDeferred(_no_transport, message)
        else:
            d = maybeDeferred(transport.send, message)
        d.addCallbacks(lambda _: self._record(message, None),
                       lambda failure: self._record(message, _delivery_error(failure)))
        d.addErrback(lambda failure: self._log_failure("outbox: recording the result of message {id} failed",
                                                       failure, id=message.id))
        self._sending.add(d)
        d.addBoth(self._finished, message, d)

    def _record(self, message: Outgoing, error: DeliveryError | None) -> Deferred[None]:
        """Queue the outcome for the next settle; fires once it is written. Outcomes that
        arrive while a settle runs are written together by the next one (one transaction
        and one core job for many sends)."""
        written: Deferred[None] = Deferred()
        self._results.append((message, error, written))
        if self._settling is None:
            self._settle_next()
        return written

    def _settle_next(self) -> None:
        batch, self._results = self._results, []
        outcomes = [(message, error) for message, error, _ in batch]

        def done(result: Any) -> None:
            self._settling = None
            if self._results:
                self._settle_next()
            for _, _, written in batch:
                written.errback(result) if isinstance(result, Failure) else written.callback(None)

        self._settling = self._run(self._settle, outcomes)
        self._settling.addBoth(done)

    def _settle(self, outcomes: list[tuple[Outgoing, DeliveryError | None]]) -> None:
        with self._database.session() as session:
            self._outbox.settle(session, outcomes)

    def _finished(self, result: Any, message: Outgoing, d: Deferred[Any]) -> Any:
        self._sending.discard(d)
        left = self._busy.get(message.channel, 1) - 1
        if left:
            self._busy[message.channel] = left
        else:
            self._busy.pop(message.channel, None)
        if self._saturated:
            self._saturated = False
            self.wake()
        return result

    def stopService(self) -> Deferred[Any]:
        """Stop polling; wait for the deliveries under way (their transports time out)."""
        super().stopService()
        if self._purger.running:
            self._purger.stop()
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        return DeferredList(list(self._sending)).addCallback(lambda _: None)


def _no_transport(message: Outgoing) -> None:
    raise DeliveryError(f"no transport for channel kind {message.kind!r}", permanent=True)


def _delivery_error(failure: Failure) -> DeliveryError:
    """A transport's failure as the DeliveryError the outbox records; an unexpected
    exception counts as temporary and is named by its class only (it may quote the message)."""
    if isinstance(failure.value, DeliveryError):
        return failure.value
    return DeliveryError(f"transport error {type(failure.value).__name__}")
