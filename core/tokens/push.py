"""The push token of the privacyIDEA Authenticator, wire compatible with privacyIDEA.

Enrolment has two steps: ``/token/init type=push genkey=1`` answers an ``otpauth://pipush/``
URL (rollout state ``clientwait``); the app then registers its RSA public key at
``POST /ttype/push`` with the enrollment credential of that URL, and gets the server's
public key (a key pair per token, the private half encrypted by the key store).

Authentication: the PIN opens a challenge (client mode ``poll``). The app fetches open
challenges with ``GET /ttype/push`` (signature over ``serial|timestamp``), each signed by
the server over ``nonce|url|serial|question|title|sslverify``, and answers with
``POST /ttype/push`` (signature over ``nonce|serial``, ``nonce|serial|decline`` to decline).
One conditional UPDATE marks the challenge answered, so a nonce counts once.

Delivery: the enrollment policy ``push_firebase_configuration`` (kept as tokeninfo of the
same name) is ``poll only`` or a Firebase definition. With Firebase, each challenge queues
the signed data in the outbox (channel ``fcm:<definition>``, ``core.sms.fcm``) for the
device's Firebase token, which the app gives at registration (``fbtoken``) and renews with
``new_fb_token`` (signature over ``new_fb_token|serial|timestamp``). Polling works either
way, as ``push_allow_polling`` allows. A token without tokeninfo (enrolled before) polls.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tesserad.core.clock import utc_datetime
from tesserad.core.policy.errors import PolicyError
from tesserad.core.sms import fcm
from tesserad.core.store.models import Challenge, Token
from tesserad.core.tokens.base import (
    VALIDITY_FORMAT,
    ChallengeOptions,
    ChallengeSpec,
    Notice,
    ParameterError,
    TokenClass,
    TokenError,
    TokenNotFound,
    param_bool,
    param_int,
)
from tesserad.core.tokens.otpauth import MAX_LABEL, qr_data_uri
from tesserad.core.tokens.registry import register

CLIENTWAIT = "clientwait"
ENROLLED = "enrolled"
DECLINED = "declined"
POLL_ONLY = fcm.POLL_ONLY
FIREBASE_CONFIG = "push_firebase_configuration"
FIREBASE_TOKEN = "firebase_token"
DEFAULT_TTL_MINUTES = 10
# How far the app's timestamp may be from the server's clock (privacyIDEA: 1 minute for a
# poll, 5 for a new Firebase token).
POLL_WINDOW = timedelta(minutes=1)
UPDATE_WINDOW = timedelta(minutes=5)
# The app's RSA key; 2048 bits is the least we accept, 8192 more than any app sends.
MIN_KEY_BITS, MAX_KEY_BITS = 2048, 8192
SERVER_KEY_BITS = 2048
MAX_FIELD = 2048  # serial, nonce, signature, timestamp, fbtoken: longer is not the app
MAX_PUBKEY = 4096
DEFAULT_QUESTION = "Do you want to confirm the login?"
DEFAULT_TITLE = "tesserad"
# Added to the challenge message when the notification cannot be sent (privacyIDEA's words).
NOT_SENT = "Use the polling feature of your privacyIDEA Authenticator App to check for a new Login request."


class PushError(TokenError):
    """A push app request cannot be accepted."""


class PollingDenied(PolicyError):
    """Policy push_allow_polling forbids polling (privacyIDEA PolicyError, 303)."""


def strip_key(pem: str) -> str:
    """The base64 body of a PEM key, as privacyIDEA exchanges keys with the app."""
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


def load_app_key(text: str) -> rsa.RSAPublicKey:
    """The app's public key: a PEM, or its base64 body (standard or URL-safe alphabet)."""
    if len(text) > MAX_PUBKEY:
        raise ParameterError("pubkey is too long")
    body = strip_key(text).replace("-", "+").replace("_", "/")
    try:
        der = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        key = serialization.load_der_public_key(der)
    except (binascii.Error, ValueError):
        raise ParameterError("pubkey is not an RSA public key") from None
    if not isinstance(key, rsa.RSAPublicKey) or not MIN_KEY_BITS <= key.key_size <= MAX_KEY_BITS:
        raise ParameterError(f"pubkey must be an RSA key of {MIN_KEY_BITS} to {MAX_KEY_BITS} bits")
    return key


def verify(key: rsa.RSAPublicKey, signature: str, text: str) -> bool:
    """An app signature: base32 of PKCS#1 v1.5 with SHA-256 over ``text``."""
    try:
        raw = base64.b32decode(signature.upper() + "=" * (-len(signature) % 8))
        key.verify(raw, text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def sign(private_pem: str, text: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return base64.b32encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def field(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if value in (None, ""):
        raise ParameterError(f"Missing parameter: {name!r}")
    text = str(value)
    if len(text) > MAX_FIELD:
        raise ParameterError(f"parameter {name} is too long")
    return text


@register
class PushToken(TokenClass):
    type = "push"
    prefix = "PIPU"
    title = "PUSH: A Token using a Smartphone with Push Notification"
    challenge_always = True
    client_mode = "poll"
    has_otp = False
    generates_otp = False
    sort_last = True

    # ---- enrolment ---------------------------------------------------------------------------

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = super().enroll(params)
        if not param_bool(params, "genkey"):
            raise ParameterError("push tokens are enrolled with genkey=1")
        firebase = str(params.get(FIREBASE_CONFIG) or POLL_ONLY)  # checked by core.enrollment
        url = str(params.get("push_registration_url") or "")
        if not url.startswith(("https://", "http://")):
            raise ParameterError("push tokens need the enrollment policy push_registration_url "
                                 "(the URL of …/ttype/push the app registers at)")
        ttl = param_int(params, "push_ttl", DEFAULT_TTL_MINUTES)
        sslverify = str(params.get("push_ssl_verify", "1"))
        if sslverify not in ("0", "1"):
            raise ParameterError("push_ssl_verify must be 0 or 1")
        credential = secrets.token_hex(20)
        now = utc_datetime(self.env.clock)
        self.set_info("enrollment_credential", credential, secret=True)
        self.set_info("enrollment_expires", (now + timedelta(minutes=ttl)).strftime(VALIDITY_FORMAT))
        self.set_info("registration_url", url)
        self.set_info("sslverify", sslverify)
        self.set_info(FIREBASE_CONFIG, POLL_ONLY if firebase.lower() == POLL_ONLY else firebase)
        self.row.rollout_state = CLIENTWAIT
        label = str(params.get("tokenlabel") or self.serial)[:MAX_LABEL]
        query = {"url": url, "ttl": ttl, "issuer": str(params.get("tokenissuer") or DEFAULT_TITLE),
                 "enrollment_credential": credential, "v": 1, "serial": self.serial, "sslverify": sslverify}
        if params.get("appimageurl"):
            query["image"] = str(params["appimageurl"])
        uri = f"otpauth://pipush/{quote(label)}?{urlencode(query, quote_via=quote)}"
        shown = {"description": "URL for privacyIDEA Push Token", "value": uri}
        if self.env.qr_images:
            shown["img"] = qr_data_uri(uri)
        detail.update(pushurl=shown, googleurl=shown, enrollment_credential=credential,
                      rollout_state=CLIENTWAIT)
        return detail

    def register_app(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The second step: the app's key in, the server's key out."""
        expected = self.secret_info("enrollment_credential") or ""
        if not hmac.compare_digest(field(params, "enrollment_credential").encode(), expected.encode()):
            raise PushError("Invalid enrollment credential. You are not authorized to finalize this token.")
        expires = self.info("enrollment_expires") or ""
        if not expires or utc_datetime(self.env.clock) > datetime.strptime(expires, VALIDITY_FORMAT):
            raise PushError("The push registration time (push_ttl) has expired. Enroll the token again.")
        app_key = load_app_key(field(params, "pubkey"))
        server_key = rsa.generate_private_key(public_exponent=65537, key_size=SERVER_KEY_BITS)
        private_pem = server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()).decode()
        public = strip_key(server_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())
        app_pem = app_key.public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self.set_info("public_key_smartphone", strip_key(app_pem))
        self.set_info("public_key_server", public)
        self.set_info("private_key_server", private_pem, secret=True)
        if params.get("fbtoken"):
            self.set_info(FIREBASE_TOKEN, field(params, "fbtoken"))
        self.del_info("enrollment_credential")
        self.del_info("enrollment_expires")
        self.row.rollout_state = ENROLLED
        return {"public_key": public, "rollout_state": ENROLLED, "serial": self.serial}

    @classmethod
    def api_endpoint(cls, call: Any) -> Any:
        """``/ttype/push`` for the app: registration, answers (POST) and polling (GET)."""
        params, session, ctx = call.params, call.session, call.ctx
        now = utc_datetime(ctx.clock)
        call.audit["serial"] = str(params.get("serial", ""))[:64]
        if call.facts.method == "GET":
            settings = ctx.engine.policies.for_request(session, None, call.client)
            return poll(session, ctx.tokens, params, now, settings.push_allow_polling)
        if "pubkey" in params:
            call.detail.update(finish_enrollment(session, ctx.tokens, params))
            return True
        if "new_fb_token" in params:
            return update_firebase_token(session, ctx.tokens, params, now)
        if "nonce" in params or "signature" in params:
            return answer(session, ctx.tokens, params, now)
        raise ParameterError("Missing parameters: give enrollment_credential and pubkey, nonce and signature, "
                             "or new_fb_token, timestamp and signature")

    def app_key(self) -> rsa.RSAPublicKey:
        return load_app_key(self.info("public_key_smartphone") or "")

    # ---- authentication ------------------------------------------------------------------------

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        title, question = options.push_title or DEFAULT_TITLE, options.push_text or DEFAULT_QUESTION
        spec = ChallengeSpec(message=options.text or options.push_text or DEFAULT_QUESTION,
                             challenge=base64.b32encode(secrets.token_bytes(20)).decode(), data=f"{title}|{question}")
        gateway = self.info(FIREBASE_CONFIG) or POLL_ONLY
        if gateway.lower() == POLL_ONLY:
            return spec
        failure = f"{spec.message} {NOT_SENT}"
        device = self.info(FIREBASE_TOKEN)
        if not device:  # the app registered without Firebase: it can only poll
            spec.message = failure
            return spec
        spec.notice = Notice(fcm.channel(gateway), {**self.signed_data(spec.challenge, question, title),
                                                    fcm.FBTOKEN: device},
                             {}, recipient=self.serial, failure=failure, literal=True, failing_per_recipient=True)
        return spec

    def check_challenge(self, answer: str, challenge: Challenge) -> int:
        """Accepted once the app has confirmed the nonce; the answer itself is empty."""
        return 0 if challenge.otp_valid and answer == "" else -1

    def next_count(self, matched: int) -> int | None:
        return None

    def smartphone_data(self, challenge: Challenge) -> dict[str, str]:
        """One open challenge as the app reads it when it polls."""
        title, _, question = challenge.data.partition("|")
        return self.signed_data(challenge.challenge, question, title)

    def signed_data(self, nonce: str, question: str, title: str) -> dict[str, str]:
        """A challenge as the app reads it (polled or pushed), signed with the token's server key."""
        url, sslverify = self.info("registration_url") or "", self.info("sslverify") or "1"
        signed = "|".join((nonce, url, self.serial, question, title, sslverify))
        return {"nonce": nonce, "question": question, "serial": self.serial, "title": title,
                "sslverify": sslverify, "url": url,
                "signature": sign(self.secret_info("private_key_server") or "", signed)}


# ---- the app's endpoint (/ttype/push) ----------------------------------------------------------

def _token(session: Session, tokens: Any, serial: str) -> PushToken:
    try:
        token = tokens.get(session, serial)
    except TokenNotFound:
        token = None
    if not isinstance(token, PushToken):
        raise PushError("Could not verify signature!")  # says nothing about which serials exist
    return token


def _check_timestamp(timestamp: str, now: datetime, window: timedelta) -> None:
    """The app's ISO timestamp (UTC when it names no zone) within ``window`` of ``now``."""
    try:
        stamp = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        raise PushError(f"Could not parse timestamp {timestamp[:40]!r}. ISO-Format required.") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=now.tzinfo)
    if not now - window <= stamp <= now + window:
        raise PushError(f"Timestamp {timestamp[:40]!r} not in valid range.")


def answer(session: Session, tokens: Any, params: Mapping[str, Any], now: datetime) -> bool:
    """``POST /ttype/push`` with nonce and signature: mark the challenge confirmed (or
    declined) with one conditional UPDATE, so a nonce is used at most once."""
    serial, nonce, signature = field(params, "serial"), field(params, "nonce"), field(params, "signature")
    decline = param_bool(params, "decline")
    token = _token(session, tokens, serial)
    signed = f"{nonce}|{serial}" + ("|decline" if decline else "")
    if token.row.rollout_state != ENROLLED or not verify(token.app_key(), signature, signed):
        raise PushError("Could not verify signature!")
    values = {Challenge.data: DECLINED} if decline else {Challenge.otp_valid: True}
    done = session.execute(update(Challenge).where(
        Challenge.serial == serial, Challenge.challenge == nonce, Challenge.expires_at > now,
        Challenge.otp_valid.is_(False), Challenge.data != DECLINED).values(values)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if not done:
        raise PushError("No open challenge for this nonce (answered already, or expired).")
    return True


def poll(session: Session, tokens: Any, params: Mapping[str, Any], now: datetime,
         allow_polling: str) -> list[dict[str, str]]:
    """``GET /ttype/push``: the token's open challenges, if the app's signature over
    ``serial|timestamp`` is right and the timestamp near the server's clock."""
    if allow_polling == "deny":
        raise PollingDenied("Polling not allowed!")
    serial, timestamp, signature = field(params, "serial"), field(params, "timestamp"), field(params, "signature")
    _check_timestamp(timestamp, now, POLL_WINDOW)
    token = _token(session, tokens, serial)
    if allow_polling == "token" and not param_bool({"v": token.info("polling_allowed", "True")}, "v"):
        raise PollingDenied("Polling not allowed!")
    if token.row.rollout_state != ENROLLED or not verify(token.app_key(), signature, f"{serial}|{timestamp}"):
        raise PushError("Could not verify signature!")
    rows = session.scalars(select(Challenge).where(
        Challenge.serial == serial, Challenge.expires_at > now, Challenge.otp_valid.is_(False),
        Challenge.data != DECLINED).order_by(Challenge.id))
    return [token.smartphone_data(row) for row in rows]


def update_firebase_token(session: Session, tokens: Any, params: Mapping[str, Any], now: datetime) -> bool:
    """``POST /ttype/push`` with ``new_fb_token``: Firebase gave the device a new token; the
    app's signature over ``new_fb_token|serial|timestamp`` (within 5 minutes) vouches for it."""
    serial, new, timestamp = field(params, "serial"), field(params, "new_fb_token"), field(params, "timestamp")
    signature = field(params, "signature")
    _check_timestamp(timestamp, now, UPDATE_WINDOW)
    token = _token(session, tokens, serial)
    if token.row.rollout_state != ENROLLED or not verify(token.app_key(), signature, f"{new}|{serial}|{timestamp}"):
        raise PushError("Could not verify signature!")
    token.set_info(FIREBASE_TOKEN, new)
    return True


def finish_enrollment(session: Session, tokens: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """The second enrolment step: only a push token still waiting for its app."""
    serial = field(params, "serial")
    token = session.scalar(select(Token.id).where(Token.serial == serial, Token.tokentype == "push",
                                                  Token.rollout_state == CLIENTWAIT))
    if token is None:
        raise TokenNotFound("No token with this serial number in the rollout state 'clientwait'.")
    found = tokens.get(session, serial)
    assert isinstance(found, PushToken)
    return found.register_app(params)
