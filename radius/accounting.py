"""The accounting port: Accounting-Request (RFC 2866) and Status-Server (RFC 5997).

An Accounting-Request's Request Authenticator is an MD5 over the packet and the secret,
so it is verified (in constant time) like a signature; a wrong one is dropped. The
request is recorded in the audit trail, and only then answered with an
Accounting-Response, as RFC 2866 section 2 asks.
"""

from __future__ import annotations

from pyrad import packet as rp
from twisted.internet.defer import Deferred

from tesserad.radius import access, wire
from tesserad.radius.clients import NasClient
from tesserad.radius.protocol import Dropped, RadiusProtocol, decoded


class AccountingProtocol(RadiusProtocol):
    codes = frozenset({wire.ACCOUNTING_REQUEST, wire.STATUS_SERVER})

    def decode(self, data: bytes, client: NasClient) -> rp.Packet:
        pkt = decoded(rp.AcctPacket, data, client)
        if not pkt.VerifyAcctRequest():
            raise Dropped("Status-Server without Message-Authenticator (RFC 5997)"
                          if pkt.code == wire.STATUS_SERVER else "wrong Request Authenticator (wrong secret?)")
        return pkt

    def answer(self, pkt: rp.Packet, client: NasClient, host: str) -> bytes | Deferred[bytes]:
        if pkt.code == wire.STATUS_SERVER:
            return wire.encoded(pkt.CreateReply())
        origin = access.Origin.of(pkt, client, host)
        d = self._run(self._audit.accounting, origin, access.readable_user(pkt), summary(pkt))
        return d.addCallback(lambda _: wire.encoded(pkt.CreateReply()))


def summary(pkt: rp.Packet) -> str:
    """The audit's info for an Accounting-Request: status, session and why it ended."""
    parts = []
    try:
        status = wire.enumerated(pkt, wire.ACCT_STATUS_TYPE, "Acct-Status-Type")
        parts.append(f"Acct-Status-Type={status or 'missing'}")
        session = wire.text(pkt, wire.ACCT_SESSION_ID, strict=False)
        if session is not None:
            parts.append(f"Acct-Session-Id={session}")
        seconds = wire.integer(pkt, wire.ACCT_SESSION_TIME)
        if seconds is not None:
            parts.append(f"Acct-Session-Time={seconds}")
        cause = wire.enumerated(pkt, wire.ACCT_TERMINATE_CAUSE, "Acct-Terminate-Cause")
        if cause is not None:
            parts.append(f"Acct-Terminate-Cause={cause}")
    except wire.MalformedAttribute as exc:
        parts.append(f"malformed: {exc}")
    return " ".join(parts)
