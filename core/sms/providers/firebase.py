"""privacyIDEA's FirebaseProvider: push notifications of push tokens through Firebase Cloud
Messaging (HTTP v1 API), defined among the SMS gateways as privacyIDEA does, so a migrated
definition keeps working and ``/smsgateway/`` offers it.

``JSON config file`` names the Firebase service-account file on the server (its
``project_id``, ``client_email``, ``private_key`` and ``token_uri``); the daemon trades a
JWT signed with that key for an OAuth2 access token at ``token_uri`` and posts to
``FCM_URL``/v1/projects/<project_id>/messages:send. ``FCM_URL`` and ``TIMEOUT`` are
tesserad's additions (a test endpoint, a bound on each round trip). The options of
privacyIDEA before 3.8 (``registration URL``, ``time to live``, ``projectid``, ...) are kept
as they were and not used, except that ``projectid``, when set, must be the file's project.
``httpsproxy`` is not offered: a definition that sets it is refused.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tesserad.core.sms.delivery import Delivery
from tesserad.core.sms.providers.base import GatewayConfig, Parameter, Provider, seconds
from tesserad.core.tokens.base import ParameterError

JSON_CONFIG = "JSON config file"
HTTPS_PROXY = "httpsproxy"
PROJECT_ID = "projectid"
FCM_URL = "FCM_URL"
TIMEOUT = "TIMEOUT"
DEFAULT_FCM_URL = "https://fcm.googleapis.com"
DEFAULT_TIMEOUT = 10.0
_MAX_FILE = 64 * 1024  # a service-account file is about 2 KiB
_LEGACY = "privacyIDEA before 3.8; kept, not used."


@dataclass(frozen=True)
class ServiceAccount:
    """The parts of a Firebase service-account file that sending needs."""

    project_id: str
    client_email: str
    private_key_id: str
    token_uri: str
    private_key: rsa.RSAPrivateKey = field(repr=False)


@dataclass(frozen=True)
class FcmSettings:
    """What the ``fcm`` transport needs to send through one definition."""

    identifier: str
    account: ServiceAccount
    send_url: str
    timeout: float


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_url(url: str, name: str) -> str:
    """An https URL, or http to this host (a test endpoint): an access token never travels
    in clear over a network."""
    parts = urlsplit(url)
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname))):
        raise ParameterError(f"{name} must be an https:// URL (http:// only to this host), not {url[:80]!r}")
    return url.rstrip("/")


def read_service_account(path: str) -> ServiceAccount:
    """Read and check the service-account file (blocking file I/O: core threads only)."""
    if not path:
        raise ParameterError(f"missing parameter: option.{JSON_CONFIG}")
    try:
        with Path(path).open("rb") as file:
            raw = file.read(_MAX_FILE + 1)
    except OSError as exc:
        raise ParameterError(f"cannot read the Firebase service-account file {path!r}: {exc.strerror}") from None
    try:
        config = json.loads(raw) if len(raw) <= _MAX_FILE else None
    except ValueError:
        config = None
    if not isinstance(config, dict) or config.get("type") != "service_account":
        raise ParameterError(f"{path!r} is not a Firebase service-account file (JSON with type service_account)")
    texts = {k: config.get(k) for k in ("project_id", "client_email", "private_key", "token_uri")}
    missing = [k for k, v in texts.items() if not isinstance(v, str) or not v]
    if missing:
        raise ParameterError(f"the service-account file {path!r} has no {missing[0]}")
    try:
        key = serialization.load_pem_private_key(str(texts["private_key"]).encode(), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ParameterError(f"the private_key of the service-account file {path!r} is no RSA private key")
    return ServiceAccount(str(texts["project_id"]), str(texts["client_email"]), str(config.get("private_key_id") or ""),
                          checked_url(str(texts["token_uri"]), f"token_uri of {path!r}"), key)


class FirebaseProvider(Provider):
    module = "privacyidea.lib.smsprovider.FirebaseProvider.FirebaseProvider"
    parameters = {
        JSON_CONFIG: Parameter("The Firebase service-account file (JSON) on the server.", required=True),
        HTTPS_PROXY: Parameter("Not supported by tesserad: leave it empty."),
        FCM_URL: Parameter(f"The FCM endpoint (default {DEFAULT_FCM_URL})."),
        TIMEOUT: Parameter(f"Seconds to wait for each answer of Google (default {DEFAULT_TIMEOUT:g})."),
        "registration URL": Parameter(_LEGACY),
        "time to live": Parameter(_LEGACY),
        PROJECT_ID: Parameter("privacyIDEA before 3.8; when set, it must be the project_id of the file."),
        "projectnumber": Parameter(_LEGACY),
        "appid": Parameter(_LEGACY),
        "apikey": Parameter(_LEGACY, secret=True),
        "appidios": Parameter(_LEGACY),
        "apikeyios": Parameter(_LEGACY, secret=True),
    }

    def settings(self, config: GatewayConfig) -> FcmSettings:
        """The definition with its service-account file read (ParameterError: it cannot send)."""
        options = config.options
        if options.get(HTTPS_PROXY):
            raise ParameterError(f"option.{HTTPS_PROXY}: tesserad does not send through a proxy")
        account = read_service_account(options.get(JSON_CONFIG, ""))
        wanted = options.get(PROJECT_ID)
        if wanted and wanted != account.project_id:
            raise ParameterError(f"option.{PROJECT_ID} {wanted[:80]!r} is not the project_id of the "
                                 "service-account file")
        base = checked_url(options.get(FCM_URL) or DEFAULT_FCM_URL, f"option.{FCM_URL}")
        send_url = f"{base}/v1/projects/{quote(account.project_id, safe='')}/messages:send"
        return FcmSettings(config.identifier, account, send_url, seconds(options.get(TIMEOUT), DEFAULT_TIMEOUT))

    def try_out(self, config: GatewayConfig) -> None:
        self.settings(config)

    def delivery(self, config: GatewayConfig, phone: str, message: str) -> Delivery:
        raise ParameterError("a Firebase definition sends push notifications of push tokens, not SMS")
