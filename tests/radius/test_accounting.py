"""The accounting port in memory: recorded, then answered; forged requests dropped."""

from __future__ import annotations

from pyrad import packet as rp
from sqlalchemy import select

from tesserad.core.store.models import AuditEntry
from tesserad.radius import wire

from tests.radius.conftest import NAS, Edge
from tests.radius.nas import CALLING, accounting_request, verified_reply


def test_accounting_requests_are_audited_then_answered(edge: Edge) -> None:
    start = accounting_request("Start")
    [raw] = edge.send(start.RequestPacket(), accounting=True)
    assert verified_reply(start, raw).code == rp.AccountingResponse
    stop = accounting_request("Stop")
    stop["Acct-Session-Time"] = 3600
    stop["Acct-Terminate-Cause"] = "User-Request"
    stop.AddAttribute("Proxy-State", b"hop-1")
    [raw] = edge.send(stop.RequestPacket(), accounting=True)
    assert wire.raw_values(verified_reply(stop, raw), wire.PROXY_STATE) == [b"hop-1"]
    with edge.core.database.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(r.action, r.success, r.user, r.client) for r in rows] == [
            ("RADIUS Accounting-Request", True, "alice", NAS[0])] * 2
        assert [r.info for r in rows] == [
            "Acct-Status-Type=Start Acct-Session-Id=session-1",
            "Acct-Status-Type=Stop Acct-Session-Id=session-1 Acct-Session-Time=3600 "
            "Acct-Terminate-Cause=User-Request"]
        assert rows[0].action_detail == f"nas1 radius_client=vpn calling_station_id={CALLING}"
        assert all(edge.core.auditor.verify(r) for r in rows)


def test_forged_or_foreign_accounting_is_dropped_and_status_server_answered(edge: Edge) -> None:
    forged = accounting_request(secret=b"not-the-secret").RequestPacket()
    assert edge.send(forged, accounting=True) == []
    access = rp.AuthPacket(secret=b"testing123", dict=wire.dictionary(), message_authenticator=True)
    assert edge.send(access.RequestPacket(), accounting=True) == []  # wrong port for an Access-Request
    status = rp.AcctPacket(code=rp.StatusServer, secret=b"testing123", dict=wire.dictionary())
    [raw] = edge.send(status.RequestPacket(), accounting=True)
    reply = verified_reply(status, raw)
    assert reply.code == rp.AccountingResponse and reply.message_authenticator
    lines = edge.log_lines()
    assert any("wrong Request Authenticator (wrong secret?)" in line for line in lines)
    with edge.core.database.session() as session:
        assert session.scalars(select(AuditEntry)).all() == []
