"""The outbox in a real tesserad: a message queued while the SMTP server is down is
retried, survives the daemon being killed, and after a restart with two workers reaches
the (STARTTLS, test CA) SMTP server exactly once, with the audit telling the story."""

from __future__ import annotations

import signal
from pathlib import Path

from sqlalchemy import select

from tesserad.core import smtp_servers
from tesserad.core.context import Context
from tesserad.core.store.models import AuditEntry, OutboxMessage
from tesserad.daemon import config as configuration

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, until, write_config
from tests.outbox.smtp_sink import PASSWORD, USERNAME, Sink

OTP = "771204"


def _context(config: Path) -> Context:
    return Context.open(configuration.load(str(config), env={}))


def _state(config: Path) -> tuple[str, list[str]]:
    ctx = _context(config)
    try:
        with ctx.database.session() as session:
            state = session.scalars(select(OutboxMessage.state)).one()
            audit = [e.info for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "OUTBOX send")
                                                     .order_by(AuditEntry.id))]
            return state, audit
    finally:
        ctx.close()


def test_a_message_pending_when_the_daemon_is_killed_is_sent_once_after_the_restart(tmp_path: Path,
                                                                                      db_url: str) -> None:
    sink = Sink(tmp_path, "starttls", auth=True)
    config = write_config(tmp_path, daemon_config(
        tmp_path, database={"url": db_url},
        outbox={"retry_delays": [1], "max_attempts": 50, "poll_interval_ms": 100, "ca_file": str(sink.ca.ca_file)}))
    daemon = DaemonProcess(tmp_path / "run1", config).start()
    try:
        ctx = _context(config)
        try:
            with ctx.database.session() as session:
                smtp_servers.save(session, ctx.keys.security, "mail1", server="localhost", port=sink.port,
                                  sender="otp@example.org", username=USERNAME, password=PASSWORD, tls=True,
                                  implicit_tls=False, timeout=5, enqueue_job=False, description="")
                ctx.outbox.enqueue(session, "smtp:mail1", "alice@example.org",
                                   {"subject": "Your OTP", "body": f"Your OTP is {OTP}"}, serial="EMAIL1")
                session.commit()
        finally:
            ctx.close()
        until(lambda: any("attempt 1 failed" in info for info in _state(config)[1]), "a failed first attempt")
    finally:
        daemon.signal(signal.SIGKILL)
        daemon.wait()
    state, audit = _state(config)
    assert state == "pending"
    assert audit[0] == "smtp:mail1 to alice@example.org: attempt 1 failed, retrying: connection refused"
    with sink:
        workers = write_config(tmp_path, {**daemon_config(tmp_path, database={"url": db_url}, outbox={
            "retry_delays": [1], "poll_interval_ms": 100, "ca_file": str(sink.ca.ca_file)}),
            "server": {"data_dir": str(tmp_path / "data"), "workers": 2}}, "workers.toml")
        restarted = DaemonProcess(tmp_path / "run2", workers).start()
        try:
            until(lambda: _state(workers)[0] == "sent", "the message to be sent")
        finally:
            restarted.stop()
        (mail,) = sink.received
        assert mail.tls and mail.recipients == ["alice@example.org"] and OTP in mail.body
    state, audit = _state(workers)
    assert audit[-1].startswith("smtp:mail1 to alice@example.org: sent (attempt ")
    assert all(OTP not in info for info in audit)
    assert OTP not in restarted.stderr + daemon.stderr
