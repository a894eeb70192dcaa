"""A privacyIDEA Authenticator push client built from the protocol: its own RSA key, the
registration at /ttype/push (with its Firebase token), polling, the notifications Firebase
hands it (``receive``), a renewed Firebase token and signed answers, over HTTP against tesserad."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

Send = Callable[[str, str, dict[str, Any]], tuple[int, dict[str, Any]]]


def b32sign(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b32encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


class PushApp:
    def __init__(self, send: Send, fbtoken: str = "no-firebase"):
        self.send = send
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.serial = ""
        self.server_key: rsa.RSAPublicKey | None = None
        self.fbtoken = fbtoken

    def pubkey(self) -> str:
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.urlsafe_b64encode(der).decode()

    @staticmethod
    def read_url(url: str) -> dict[str, str]:
        parsed = urlparse(url)
        assert parsed.scheme == "otpauth" and parsed.netloc == "pipush", url
        fields = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        fields["label"] = unquote(parsed.path.lstrip("/"))
        return fields

    def register(self, url: str) -> tuple[int, dict[str, Any]]:
        fields = self.read_url(url)
        self.serial = fields["serial"]
        status, body = self.send("POST", "/ttype/push", {"serial": self.serial, "pubkey": self.pubkey(),
                                                         "fbtoken": self.fbtoken,
                                                         "enrollment_credential": fields["enrollment_credential"]})
        if status == 200:
            der = base64.b64decode(body["detail"]["public_key"])
            loaded = serialization.load_der_public_key(der)
            assert isinstance(loaded, rsa.RSAPublicKey)
            self.server_key = loaded
        return status, body

    def poll(self, now: datetime) -> tuple[int, dict[str, Any]]:
        stamp = now.isoformat()
        return self.send("GET", "/ttype/push", {"serial": self.serial, "timestamp": stamp,
                                                "signature": b32sign(self.key, f"{self.serial}|{stamp}")})

    def verify_challenge(self, data: dict[str, str]) -> None:
        """The server's signature over what the app shows, as the app checks it."""
        assert self.server_key is not None
        signed = "|".join(data[k] for k in ("nonce", "url", "serial", "question", "title", "sslverify"))
        self.server_key.verify(base64.b32decode(data["signature"]), signed.encode(), padding.PKCS1v15(),
                               hashes.SHA256())

    def receive(self, message: dict[str, Any]) -> dict[str, str]:
        """A notification as Firebase delivers it (an FCM v1 message): addressed to this app,
        its data signed by the server; the data, to answer."""
        assert message["token"] == self.fbtoken, "a notification for another device"
        data: dict[str, str] = message["data"]
        assert data["serial"] == self.serial
        self.verify_challenge(data)
        return data

    def renew_fbtoken(self, fbtoken: str, now: datetime, *, key: rsa.RSAPrivateKey | None = None
                      ) -> tuple[int, dict[str, Any]]:
        """Firebase gave the device a new token: tell the server, signed."""
        stamp = now.isoformat()
        status, body = self.send("POST", "/ttype/push", {
            "serial": self.serial, "new_fb_token": fbtoken, "timestamp": stamp,
            "signature": b32sign(key or self.key, f"{fbtoken}|{self.serial}|{stamp}")})
        if status == 200:
            self.fbtoken = fbtoken
        return status, body

    def answer(self, nonce: str, *, decline: bool = False, key: rsa.RSAPrivateKey | None = None
               ) -> tuple[int, dict[str, Any]]:
        text = f"{nonce}|{self.serial}" + ("|decline" if decline else "")
        params = {"serial": self.serial, "nonce": nonce, "signature": b32sign(key or self.key, text)}
        if decline:
            params["decline"] = "1"
        return self.send("POST", "/ttype/push", params)
