"""The authentication port: Access-Request and Status-Server.

An Access-Request whose Message-Authenticator is missing (when the client requires one),
wrong, or whose Proxy-State comes without one (``limit_proxy_state``) is dropped: the
BlastRADIUS mitigations (CVE-2024-3596). The engine runs in the core thread pool, never
on the reactor thread; its errors (unknown user, policy, malformed input) become an
Access-Reject with a log line. When it cannot decide (``Unavailable``), the request gets
no answer at all (see protocol).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyrad import packet as rp
from twisted.internet.defer import Deferred

from tesserad.core.auth.request import AuthRequest, AuthResult, Outcome
from tesserad.core.auth.service import AuthService
from tesserad.core.clock import Clock, utc_datetime
from tesserad.core.errors import TesseraError, Unavailable
from tesserad.radius import access, replydata, wire
from tesserad.radius.audit import RadiusAudit
from tesserad.radius.clients import ClientTable, NasClient
from tesserad.radius.protocol import Dropped, RadiusProtocol, Runner, decoded
from tesserad.radius.replyrules import Key
from tesserad.radius.state import StateCodec


@dataclass(frozen=True)
class Verdict:
    """What the core thread pool hands back for one Access-Request."""

    result: AuthResult | None
    # Why the engine refused the request (result is None then).
    error: str = ""
    # Seconds until the challenges of a CHALLENGE expire (Session-Timeout).
    challenge_lifetime: int = 0
    # The client's reply attributes for this result: raw (key, value) pairs.
    attributes: tuple[tuple[Key, bytes], ...] = ()


class AuthProtocol(RadiusProtocol):
    codes = frozenset({wire.ACCESS_REQUEST, wire.STATUS_SERVER})

    def __init__(self, clients: Callable[[], ClientTable], clock: Clock, run: Runner, auth: AuthService,
                 states: StateCodec, audit: RadiusAudit):
        super().__init__(clients, clock, run, audit)
        self._clock = clock
        self._auth = auth
        self._states = states

    def decode(self, data: bytes, client: NasClient) -> rp.Packet:
        pkt = decoded(rp.AuthPacket, data, client)
        if not pkt.message_authenticator:
            if pkt.code == wire.STATUS_SERVER:
                raise Dropped("Status-Server without Message-Authenticator (RFC 5997)")
            if client.require_message_authenticator:
                raise Dropped("no Message-Authenticator, which this client requires")
            if client.limit_proxy_state and wire.raw_values(pkt, wire.PROXY_STATE):
                raise Dropped("Proxy-State without Message-Authenticator")
        return pkt

    def answer(self, pkt: rp.Packet, client: NasClient, host: str) -> bytes | Deferred[bytes]:
        assert isinstance(pkt, rp.AuthPacket)
        if pkt.code == wire.STATUS_SERVER:
            return wire.encoded(access.reply(pkt, wire.ACCESS_ACCEPT))
        origin = access.Origin.of(pkt, client, host)
        try:
            user = access.user_name(pkt)
            request = access.auth_request(pkt, origin, user, self._states)
        except access.Refused as exc:
            named = access.readable_user(pkt)
            self._rejected(client, named, str(exc))
            d = self._run(self._audit.refused, origin, named, str(exc))
            return d.addCallback(lambda _: wire.encoded(access.reply(pkt, wire.ACCESS_REJECT)))
        return self._run(self._decide, request, client).addCallback(self._reply, pkt, client, user)

    def _decide(self, request: AuthRequest, client: NasClient) -> Verdict:
        """In the core thread pool: the engine's decision, the client's reply attributes
        for it, and for a challenge how long it stays open."""
        try:
            result = self._auth.authenticate(request, access.ACTION)
        except Unavailable:
            raise
        except TesseraError as exc:
            return Verdict(None, error=str(exc))
        challenge = result.outcome is Outcome.CHALLENGE
        if not (result.accepted or challenge):
            return Verdict(result)
        rules = client.reply_rules(challenge)
        attributes = tuple(replydata.attributes(rules, result)) if rules else ()
        return Verdict(result, challenge_lifetime=self._challenge_lifetime(result) if challenge else 0,
                       attributes=attributes)

    def _challenge_lifetime(self, result: AuthResult) -> int:
        """Seconds until the first of the result's challenges expires (at least one)."""
        expiries = [c.expires_at for c in result.challenges]
        now = utc_datetime(self._clock)
        return max(1, round((min(expiries) - now).total_seconds())) if expiries else 1

    def _reply(self, verdict: Verdict, pkt: rp.AuthPacket, client: NasClient, user: str) -> bytes:
        result = verdict.result
        if result is None:
            self._rejected(client, user, verdict.error)
            return wire.encoded(access.reply(pkt, wire.ACCESS_REJECT))
        if result.outcome is not Outcome.CHALLENGE:
            if not result.accepted:
                return wire.encoded(access.reply(pkt, wire.ACCESS_REJECT))
            return self._with_attributes(access.reply(pkt, wire.ACCESS_ACCEPT), verdict, client)
        assert result.transaction_id is not None
        state = self._states.issue(result.transaction_id, client.name, user)
        answer = access.challenge(pkt, state, result.prompt, verdict.challenge_lifetime)
        return self._with_attributes(answer, verdict, client)

    def _with_attributes(self, answer: rp.AuthPacket, verdict: Verdict, client: NasClient) -> bytes:
        left_out = access.add_attributes(answer, verdict.attributes)
        if left_out:
            self.log.warn("reply to client {client}: {count} reply attribute(s) left out, the packet would "
                          "exceed 4096 octets", client=client.name, count=left_out)
        return wire.encoded(answer)

    def _rejected(self, client: NasClient, user: str, reason: str) -> None:
        self.log.info("RADIUS Access-Request of {user!r} from client {client} rejected: {reason}",
                      user=user, client=client.name, reason=reason)
