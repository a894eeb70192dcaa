"""The outbox channel kind ``fcm``: a push token's notification through a Firebase
definition (``providers.firebase``), queued with the challenge that it announces.

The payload is the data the privacyIDEA Authenticator reads (``nonce``, ``question``,
``serial``, ``title``, ``sslverify``, ``url``, ``signature``, signed by the token's server
key) plus ``fbtoken``, the device's Firebase token; the recipient is the token's serial, so
the audit names the token and never the device. ``loaded`` reads the definition and its
service-account file in a core thread; ``request_body`` is what the transport posts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tesserad.core.errors import DeliveryError
from tesserad.core.security.base import SecurityModule
from tesserad.core.sms import gateways
from tesserad.core.sms.providers.firebase import FcmSettings, FirebaseProvider
from tesserad.core.tokens.base import ParameterError

KIND = "fcm"
# push_firebase_configuration for a token that only polls (privacyIDEA 3.6's POLL_ONLY).
POLL_ONLY = "poll only"
FBTOKEN = "fbtoken"
# How long Google keeps a notification for a phone that is offline (privacyIDEA: 120 s).
NOTIFICATION_TTL = 120
_PROVIDER = FirebaseProvider()


def channel(identifier: str) -> str:
    return f"{KIND}:{identifier}"


def checked_configuration(session: Session, value: str) -> str:
    """``push_firebase_configuration`` as a push token stores it: ``poll only`` or the
    identifier of a Firebase definition."""
    if value.strip().lower() == POLL_ONLY:
        return POLL_ONLY
    if gateways.module_of(session, value) != _PROVIDER.module:
        raise ParameterError(f"Unknown Firebase configuration {value[:80]!r}: push_firebase_configuration "
                             f"must be '{POLL_ONLY}' or the name of a Firebase definition (/smsgateway/)")
    return value


def loaded(session: Session, security: SecurityModule, identifier: str) -> FcmSettings:
    """The outbox's loader of channel kind ``fcm``: a definition that is gone, is of
    another provider or cannot send fails the message for good."""
    try:
        gateway = gateways.config(session, security, identifier)
    except gateways.SMSGatewayNotFound as exc:
        raise DeliveryError(str(exc), permanent=True) from None
    if gateway.module != _PROVIDER.module:
        raise DeliveryError(f"the SMS gateway {identifier!r} is no Firebase definition", permanent=True)
    try:
        return _PROVIDER.settings(gateway)
    except ParameterError as exc:
        raise DeliveryError(f"the Firebase definition {identifier!r} cannot send: {exc}", permanent=True) from None


def request_body(payload: Mapping[str, str], now: float) -> dict[str, Any]:
    """The FCM v1 ``messages:send`` body: the app's data, and the notification Android and
    iOS show (the app's iOS side files it under the category PUSH_AUTHENTICATION)."""
    data = {key: value for key, value in payload.items() if key != FBTOKEN}
    shown = {"title": data.get("title", ""), "body": data.get("question", "")}
    return {"message": {
        "token": payload.get(FBTOKEN, ""),
        "data": data,
        "notification": shown,
        "android": {"priority": "HIGH", "ttl": f"{NOTIFICATION_TTL}s"},
        "apns": {"headers": {"apns-priority": "10", "apns-push-type": "alert",
                             "apns-collapse-id": "privacyidea.pushtoken",
                             "apns-expiration": str(int(now) + NOTIFICATION_TTL)},
                 "payload": {"aps": {"alert": shown, "sound": "default", "category": "PUSH_AUTHENTICATION"}}},
    }}
