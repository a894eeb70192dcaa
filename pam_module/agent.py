"""Agent mode: PAM logins forwarded to a central server over HTTPS, with the offline cache.

With ``[pam] upstream = "https://..."`` this daemon decides nothing itself: each PamRequest
becomes a privacyIDEA ``/validate/check`` (user, pass, realm, transaction_id; the host named
in the User-Agent as ``Hostname/<host>``), so the upstream can be tesserad or privacyIDEA.
TLS is verified against ``upstream_ca_file`` (or the system trust store) with
service-identity, and every request is bounded by ``upstream_timeout``.

Offline OTP: a successful answer's ``auth_items.offline`` goes to the OfflineCache. A user
with cached values is checked against the cache first: the server moved its counter past
those values, so they are dead online. An offline match logs in (and burns the value); when
fewer than ``offline_refill_threshold`` values are left, a ``/validate/offlinerefill`` with the
value just used is sent in the background. An unreachable upstream is UNAVAILABLE (the module
answers PAM_AUTHINFO_UNAVAIL), never a success.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import treq
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from treq.client import HTTPClient
from twisted.internet.defer import Deferred, ensureDeferred, gatherResults
from twisted.internet.interfaces import IReactorTime
from twisted.internet.ssl import Certificate, trustRootFromCertificates
from twisted.logger import Logger
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool

from tesserad import __version__
from tesserad.pam_module.config import PamSection
from tesserad.pam_module.offline_cache import Match, OfflineCache
from tesserad.pam_module.request import PamOutcome, PamReply, PamRequest

Runner = Callable[..., Deferred[Any]]


class Unreachable(Exception):
    """The upstream gave no usable answer (connection, TLS, timeout, 5xx, not JSON)."""


def tls_policy(ca_file: str) -> BrowserLikePolicyForHTTPS:
    """Verify the upstream's certificate chain against ``ca_file`` (PEM bundle), or the
    system trust store when empty; the host name is checked by service-identity."""
    if not ca_file:
        return BrowserLikePolicyForHTTPS()
    certificates = x509.load_pem_x509_certificates(Path(ca_file).read_bytes())
    return BrowserLikePolicyForHTTPS(trustRootFromCertificates(
        [Certificate.loadPEM(cert.public_bytes(Encoding.PEM)) for cert in certificates]))


class UpstreamAuthenticator:
    """The Authenticator of agent mode (see the module docstring)."""

    log = Logger()

    def __init__(self, reactor: IReactorTime, http: HTTPClient, upstream: str, cache: OfflineCache, run: Runner, *,
                 timeout: float, refill_threshold: int, host: str | None = None):
        self._reactor = reactor
        self._http = http
        self._upstream = upstream.rstrip("/")
        self._cache = cache
        self._run = run
        self._timeout = timeout
        self._threshold = refill_threshold
        self._host = host or socket.gethostname()
        self._refills: dict[str, Deferred[None]] = {}

    @classmethod
    def from_config(cls, reactor: Any, pam: PamSection, run: Runner) -> UpstreamAuthenticator:
        """Built from ``[pam]``; ``run`` runs blocking work (the cache) off the reactor."""
        agent = Agent(reactor, contextFactory=tls_policy(pam.upstream_ca_file), connectTimeout=pam.upstream_timeout,
                      pool=HTTPConnectionPool(reactor, persistent=True))
        return cls(reactor, HTTPClient(agent), pam.upstream, OfflineCache(Path(pam.offline_dir)), run,
                   timeout=pam.upstream_timeout, refill_threshold=pam.offline_refill_threshold)

    def authenticate(self, request: PamRequest) -> Deferred[PamReply]:
        d = ensureDeferred(self._authenticate(request))

        def failed(failure: Any) -> PamReply:
            self.log.failure("PAM login of {user} failed unexpectedly", failure, user=request.user)
            return PamReply(PamOutcome.UNAVAILABLE, "internal error")
        return d.addErrback(failed)

    def settle(self) -> Deferred[Any]:
        """Fires when the background refills started so far are done (tests, shutdown)."""
        return gatherResults(list(self._refills.values()), consumeErrors=True)

    async def _authenticate(self, request: PamRequest) -> PamReply:
        if not request.state and await self._run(self._cache.has_values, request.user):
            match = await self._run(self._cache.check, request.user, request.password)
            if match is not None:
                self.log.info("PAM login of {user} accepted offline (token {serial})", user=request.user,
                              serial=match.serial)
                self._maybe_refill(request, match)
                return PamReply(PamOutcome.ACCEPT, "", extra={"offline": "1", "serial": match.serial})
        params = {"user": request.user, "pass": request.password}
        if request.realm:
            params["realm"] = request.realm
        if request.state:
            params["transaction_id"] = request.state
        try:
            status, body = await self._post("/validate/check", params, request.host)
        except Unreachable as exc:
            self.log.warn("upstream {url} unreachable for {user}: {reason}", url=self._upstream,
                          user=request.user, reason=str(exc))
            return PamReply(PamOutcome.UNAVAILABLE, "authentication server unreachable")
        return await self._reply(request, status, body)

    async def _reply(self, request: PamRequest, status: int, body: dict[str, Any]) -> PamReply:
        result = body.get("result") or {}
        detail = body.get("detail") or {}
        if not result.get("status"):
            return PamReply(PamOutcome.REJECT, "")
        if result.get("value") is True:
            items = (body.get("auth_items") or {}).get("offline")
            if isinstance(items, list) and items:
                stored = await self._run(self._cache.store, request.user, items)
                self.log.info("cached offline values of {count} token(s) for {user}", count=stored,
                              user=request.user)
            return PamReply(PamOutcome.ACCEPT, "", extra={"serial": str(detail.get("serial") or "")})
        transaction_id = detail.get("transaction_id")
        if result.get("authentication") == "CHALLENGE" or transaction_id:
            return PamReply(PamOutcome.CHALLENGE, str(detail.get("message") or ""), state=str(transaction_id or ""))
        return PamReply(PamOutcome.REJECT, "")

    async def _post(self, path: str, params: dict[str, str], host: str) -> tuple[int, dict[str, Any]]:
        headers: dict[bytes | str, bytes | str] = {
            "User-Agent": f"tesserad-pam/{__version__} Hostname/{host or self._host}", "Accept": "application/json"}
        try:
            response = await self._http.post(self._upstream + path, data=params, headers=headers,
                                             timeout=self._timeout)
            body = await treq.json_content(response) if response.code < 500 else None
        except Exception as exc:  # connection refused, TLS failure, timeout, broken answer
            raise Unreachable(type(exc).__name__) from None
        if not isinstance(body, dict):
            raise Unreachable(f"HTTP {response.code} without a JSON object")
        return response.code, body

    def _maybe_refill(self, request: PamRequest, match: Match) -> None:
        if match.remaining >= self._threshold or not match.refilltoken or match.serial in self._refills:
            return
        d = ensureDeferred(self._refill(request, match))
        if not d.called:
            self._refills[match.serial] = d

            def done(_: object) -> None:
                del self._refills[match.serial]
            d.addBoth(done)

    async def _refill(self, request: PamRequest, match: Match) -> None:
        params = {"serial": match.serial, "refilltoken": match.refilltoken, "pass": request.password}
        try:
            status, body = await self._post("/validate/offlinerefill", params, request.host)
        except Unreachable as exc:
            self.log.info("offline refill of {serial} postponed: {reason}", serial=match.serial, reason=str(exc))
            return
        items = (body.get("auth_items") or {}).get("offline") or []
        if not (body.get("result") or {}).get("value") or not items:
            self.log.warn("offline refill of {serial} refused by the upstream", serial=match.serial)
            return
        left = await self._run(self._cache.refilled, request.user, match.serial, items[0])
        self.log.info("offline values of {serial} refilled: {count} cached", serial=match.serial, count=left)
