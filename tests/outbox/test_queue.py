"""The outbox in the core: enqueue with the caller's transaction, leases that give each
message to one sender, retries, giving up, and the audit, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tesserad.core.clock import utc_datetime
from tesserad.core.outbox import LOADERS, DeliveryError, Outbox, OutboxSettings
from tesserad.core.security.base import SecurityModule
from tesserad.core.store.models import AuditEntry, OutboxMessage

from tests.wired import Core

OTP = "918273"


def _settings(session: Session, security: SecurityModule, identifier: str) -> dict[str, str]:
    if identifier == "gone":
        raise DeliveryError("no such gateway", permanent=True)
    return {"gateway": identifier}


@pytest.fixture
def outbox(core: Core, monkeypatch: pytest.MonkeyPatch) -> Outbox:
    monkeypatch.setitem(LOADERS, "test", _settings)
    return Outbox(core.tokens.security, core.clock, core.auditor,
                  OutboxSettings(max_attempts=3, retry_delays=(10, 60), lease_seconds=30))


def _enqueue(core: Core, outbox: Outbox, channel: str = "test:gw", **kwargs: Any) -> int:
    with core.database.session() as session:
        message_id = outbox.enqueue(session, channel, "alice@example.org",
                                    {"subject": "Your OTP", "body": f"OTP {OTP}"}, serial="EMAIL1", **kwargs)
        session.commit()
        return message_id


def _claim(core: Core, outbox: Outbox, limit: int = 10, **kwargs: Any) -> list[Any]:
    with core.database.session() as session:
        return outbox.claim(session, limit, **kwargs)


def _row(core: Core, message_id: int) -> OutboxMessage:
    with core.database.session() as session:
        row = session.get_one(OutboxMessage, message_id)
        session.expunge(row)
        return row


def _audit(core: Core) -> list[AuditEntry]:
    with core.database.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "OUTBOX send")
                                    .order_by(AuditEntry.id)))


def test_a_message_of_a_rolled_back_transaction_is_never_sent(core: Core, outbox: Outbox) -> None:
    with core.database.session() as session:
        outbox.enqueue(session, "test:gw", "alice@example.org", {"body": OTP})
        session.rollback()
    assert _claim(core, outbox) == []


def test_the_payload_is_stored_encrypted_and_claimed_in_clear(core: Core, outbox: Outbox) -> None:
    message_id = _enqueue(core, outbox)
    assert OTP.encode() not in _row(core, message_id).payload_enc
    (message,) = _claim(core, outbox)
    assert (message.id, message.kind, message.identifier, message.attempt) == (message_id, "test", "gw", 1)
    assert message.payload == {"subject": "Your OTP", "body": f"OTP {OTP}"}
    assert message.settings == {"gateway": "gw"}
    assert OTP not in repr(message)


def test_a_leased_message_is_not_claimed_again_until_the_lease_runs_out(core: Core, outbox: Outbox) -> None:
    _enqueue(core, outbox)
    assert len(_claim(core, outbox)) == 1
    assert _claim(core, outbox) == []
    core.clock.advance(31)
    (again,) = _claim(core, outbox)
    assert again.attempt == 2


def test_a_sender_whose_lease_ran_out_cannot_settle_the_message(core: Core, outbox: Outbox) -> None:
    _enqueue(core, outbox)
    (first,) = _claim(core, outbox)
    core.clock.advance(31)
    (second,) = _claim(core, outbox)
    with core.database.session() as session:
        assert outbox.delivered(session, first) is False
        assert outbox.delivered(session, second) is True
        session.commit()
    assert len([e for e in _audit(core) if e.success]) == 1


def test_concurrent_senders_each_get_every_message_once(core: Core, outbox: Outbox) -> None:
    ids = {_enqueue(core, outbox, channel=f"test:gw{n % 3}") for n in range(60)}
    claimed: list[int] = []
    lock = threading.Lock()

    def sender() -> None:
        while batch := _claim(core, outbox, 7):
            with lock:
                claimed.extend(m.id for m in batch)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(ids)


def test_delivered_wipes_the_payload_and_audits_without_the_text(core: Core, outbox: Outbox) -> None:
    message_id = _enqueue(core, outbox, transaction_id="T123")
    (message,) = _claim(core, outbox)
    with core.database.session() as session:
        outbox.delivered(session, message)
        session.commit()
    row = _row(core, message_id)
    assert (row.state, row.payload_enc, row.lease_owner) == ("sent", b"", None)
    (entry,) = _audit(core)
    assert entry.success and entry.serial == "EMAIL1"
    assert entry.info == "test:gw to alice@example.org: sent (attempt 1)"
    assert "T123" in entry.action_detail
    assert OTP not in entry.info + entry.action_detail


def test_a_temporary_failure_is_retried_after_the_delay_then_given_up(core: Core, outbox: Outbox) -> None:
    message_id = _enqueue(core, outbox)
    for attempt, delay in ((1, 10), (2, 60)):
        (message,) = _claim(core, outbox)
        assert message.attempt == attempt
        with core.database.session() as session:
            assert outbox.failed(session, message, DeliveryError("connection refused")) == "pending"
            session.commit()
        assert _row(core, message_id).next_attempt_at == utc_datetime(core.clock) + timedelta(seconds=delay)
        core.clock.advance(delay - 1)
        assert _claim(core, outbox) == []
        core.clock.advance(1)
    (last,) = _claim(core, outbox)
    with core.database.session() as session:
        assert outbox.failed(session, last, DeliveryError("connection refused")) == "failed"
        session.commit()
    row = _row(core, message_id)
    assert (row.state, row.payload_enc, row.last_error) == ("failed", b"", "connection refused")
    assert [(e.success, e.info) for e in _audit(core)] == [
        (False, "test:gw to alice@example.org: attempt 1 failed, retrying: connection refused"),
        (False, "test:gw to alice@example.org: attempt 2 failed, retrying: connection refused"),
        (False, "test:gw to alice@example.org: given up: connection refused")]


def test_a_permanent_failure_is_not_retried(core: Core, outbox: Outbox) -> None:
    message_id = _enqueue(core, outbox)
    (message,) = _claim(core, outbox)
    with core.database.session() as session:
        assert outbox.failed(session, message, DeliveryError("550 no such user", permanent=True)) == "failed"
        session.commit()
    core.clock.advance(3600)
    assert _claim(core, outbox) == []
    assert _row(core, message_id).state == "failed"


@pytest.mark.parametrize(("channel", "reason"), [("test:gone", "no such gateway"),
                                                 ("carrierpigeon:x", "unknown channel kind 'carrierpigeon'")])
def test_a_message_for_a_missing_definition_fails_at_claim(core: Core, outbox: Outbox, channel: str,
                                                           reason: str) -> None:
    message_id = _enqueue(core, outbox, channel=channel)
    assert _claim(core, outbox) == []
    row = _row(core, message_id)
    assert (row.state, row.last_error) == ("failed", reason)


def test_an_expired_message_is_given_up_not_sent(core: Core, outbox: Outbox) -> None:
    message_id = _enqueue(core, outbox, expires_at=utc_datetime(core.clock) + timedelta(seconds=120))
    core.clock.advance(120)
    assert _claim(core, outbox) == []
    assert _row(core, message_id).last_error == "expired before it could be sent"


def test_a_busy_channel_gets_no_more_messages(core: Core, outbox: Outbox) -> None:
    for channel in ("test:a", "test:a", "test:b"):
        _enqueue(core, outbox, channel=channel)
    claimed = _claim(core, outbox, busy={"test:a": 1}, per_channel=2)
    assert sorted(m.channel for m in claimed) == ["test:a", "test:b"]
    assert _claim(core, outbox, busy={"test:a": 2}, per_channel=2) == []


def test_purge_deletes_ended_messages_after_the_keep_time_only(core: Core, outbox: Outbox) -> None:
    sent, failed, pending = (_enqueue(core, outbox) for _ in range(3))
    claimed = {m.id: m for m in _claim(core, outbox)}
    with core.database.session() as session:
        outbox.delivered(session, claimed[sent])
        outbox.failed(session, claimed[failed], DeliveryError("550 refused", permanent=True))
        outbox.failed(session, claimed[pending], DeliveryError("421 later"))
        session.commit()
    core.clock.advance(86400)
    with core.database.session() as session:
        assert outbox.purge(session, timedelta(days=1, seconds=1)) == 0
        assert outbox.purge(session, timedelta(days=1)) == 2
        session.commit()
        assert [m.id for m in session.scalars(select(OutboxMessage))] == [pending]
