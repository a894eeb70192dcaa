"""The ``fcm`` transport: a push notification through Firebase Cloud Messaging (HTTP v1), on
the reactor.

An OAuth2 access token comes from the service account's ``token_uri`` by the JWT bearer
grant (RFC 7523): a JWT signed RS256 with the account's key (PyJWT), scope
``firebase.messaging``. It is kept until a minute before it expires, one per account, and
fetched by one request at a time, however many messages wait for it. The signing is the
only CPU work on the reactor, once an hour per account.

Outcomes: FCM 200 is sent. A token endpoint that refuses the account (400, 401, 403) and FCM
answers that no retry can change (400 a malformed message, 403 a sender mismatch, 404 a
device token that is no longer registered) fail the message for good; FCM 401 drops the
access token, and that, 429, 5xx, timeouts and refused connections are retried by the
outbox. Reasons name the status and Google's error code, never a token or the message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import treq
from twisted.internet.defer import Deferred, DeferredLock
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool
from twisted.web.http_headers import Headers

from tesserad.core.outbox import DeliveryError, Outgoing
from tesserad.core.sms import fcm
from tesserad.core.sms.providers.firebase import FcmSettings, ServiceAccount

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600
# An access token is renewed this long before Google says it expires.
RENEW_MARGIN = 60.0
_MAX_ANSWER = 64 * 1024
# FCM answers after which the same message can never be delivered.
_FINAL = frozenset({400, 403, 404})
# Token endpoint answers that refuse the account itself (a revoked key, a wrong audience).
_REFUSED = frozenset({400, 401, 403})

Account = tuple[str, str, str]


@dataclass(frozen=True)
class AccessToken:
    value: str
    renew_at: float


def _account_key(account: ServiceAccount) -> Account:
    return account.token_uri, account.client_email, account.private_key_id


def _google_error(body: bytes) -> str:
    """The error code in Google's answer: FCM's ``errorCode`` (UNREGISTERED, ...), else the
    ``status`` (NOT_FOUND, ...) or OAuth's ``error`` (invalid_grant, ...); '' when none."""
    try:
        answer = json.loads(body[:_MAX_ANSWER])
    except ValueError:
        return ""
    if not isinstance(answer, dict):
        return ""
    error = answer.get("error")
    if isinstance(error, str):
        return error[:60]
    if not isinstance(error, dict):
        return ""
    for detail in error.get("details") or ():
        if isinstance(detail, dict) and isinstance(detail.get("errorCode"), str):
            return str(detail["errorCode"])[:60]
    return str(error.get("status") or "")[:60]


class FcmTransport:
    """``trust_root`` (outbox.ca_file, or a test CA) replaces the platform's CAs; ``clock``
    (seconds since the epoch) stamps the JWT and the token's expiry."""

    def __init__(self, reactor: Any, trust_root: Any = None, *, clock: Callable[[], float] | None = None):
        self._reactor = reactor
        self._clock = clock or reactor.seconds
        policy = BrowserLikePolicyForHTTPS(trust_root) if trust_root is not None else BrowserLikePolicyForHTTPS()
        self._agent = Agent(reactor, contextFactory=policy, pool=HTTPConnectionPool(reactor, persistent=False))
        self._tokens: dict[Account, AccessToken] = {}
        self._locks: dict[Account, DeferredLock] = {}

    def send(self, message: Outgoing) -> Deferred[None]:
        return Deferred.fromCoroutine(self._send(message))

    async def _send(self, message: Outgoing) -> None:
        settings: FcmSettings = message.settings
        access = await self._access_token(settings)
        body = json.dumps(fcm.request_body(message.payload, self._clock())).encode()
        code, answer = await self._post(settings, settings.send_url, body, Headers({
            b"Authorization": [f"Bearer {access}".encode()], b"Content-Type": [b"application/json; charset=UTF-8"]}),
            "FCM")
        if code == 200:
            return
        if code == 401:  # revoked or expired early: the next attempt fetches a new one
            self._tokens.pop(_account_key(settings.account), None)
        error = _google_error(answer)
        raise DeliveryError(f"FCM answered {code}{' ' + error if error else ''}", permanent=code in _FINAL)

    async def _access_token(self, settings: FcmSettings) -> str:
        key = _account_key(settings.account)
        lock = self._locks.setdefault(key, DeferredLock())
        await lock.acquire()
        try:
            cached = self._tokens.get(key)
            if cached is None or cached.renew_at <= self._clock():
                cached = await self._fetch(settings)
                self._tokens[key] = cached
            return cached.value
        finally:
            lock.release()

    async def _fetch(self, settings: FcmSettings) -> AccessToken:
        account = settings.account
        now = int(self._clock())
        assertion = jwt.encode({"iss": account.client_email, "scope": SCOPE, "aud": account.token_uri,
                                "iat": now, "exp": now + ASSERTION_LIFETIME}, account.private_key,
                               algorithm="RS256", headers={"kid": account.private_key_id} if account.private_key_id
                               else None)
        form = f"grant_type={GRANT}&assertion={assertion}".encode()  # both URL-safe already
        code, answer = await self._post(settings, account.token_uri, form,
                                        Headers({b"Content-Type": [b"application/x-www-form-urlencoded"]}),
                                        "the token endpoint")
        if code != 200:
            error = _google_error(answer)
            raise DeliveryError(f"the token endpoint answered {code}{' ' + error if error else ''}",
                                permanent=code in _REFUSED)
        try:
            token = json.loads(answer)
            value, lifetime = token["access_token"], float(token.get("expires_in", ASSERTION_LIFETIME))
        except (ValueError, TypeError, KeyError):
            raise DeliveryError("the token endpoint answered without an access token") from None
        if not isinstance(value, str) or not value:
            raise DeliveryError("the token endpoint answered without an access token")
        return AccessToken(value, now + lifetime - RENEW_MARGIN)

    async def _post(self, settings: FcmSettings, url: str, body: bytes, headers: Headers,
                    what: str) -> tuple[int, bytes]:
        try:
            response = await treq.post(url, data=body, headers=headers, agent=self._agent,
                                       timeout=settings.timeout, reactor=self._reactor)
            answer = await treq.content(response)
        except Exception as exc:  # refused, TLS, timeout: a reason without the request
            raise DeliveryError(f"{what} could not be reached: {type(exc).__name__}") from None
        return response.code, answer
