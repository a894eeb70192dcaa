"""A stand-in for Google's OAuth2 token endpoint and FCM's HTTP v1 ``messages:send``, a real
HTTP server on loopback. The real services cannot be reached from here (and would need a
Firebase project), so this server speaks their wire format and checks what Google checks:

- ``POST /token``: the JWT bearer grant; the assertion's RS256 signature is verified with
  the service account's public key, and its issuer, audience, scope and lifetime are
  checked; the answer is an access token with ``expires_in``.
- ``POST /v1/projects/<project>/messages:send``: the bearer token must be one it issued and
  not revoked; the message is recorded; the answer is the status the test sets, with an
  error body of FCM's shape (``UNREGISTERED`` for 404).

``service_account`` writes a service-account file whose ``token_uri`` points here.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers import serving_in_thread

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
PROJECT = "tesserad-test"
CLIENT_EMAIL = "push-sender@tesserad-test.iam.gserviceaccount.com"
KEY_ID = "0123456789abcdef"
# FCM's answers for the statuses the tests set (the shape Google documents).
FCM_ERRORS = {
    400: ("INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    401: ("UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"),
    404: ("NOT_FOUND", "UNREGISTERED"),
    429: ("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
    500: ("INTERNAL", "INTERNAL"),
    503: ("UNAVAILABLE", "UNAVAILABLE"),
}


@dataclass
class FakeGoogle:
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    port: int = 0
    token_status: int = 200
    fcm_status: int = 200
    expires_in: int = 3600
    # The verified assertions (header, claims), the tokens issued, the messages received.
    assertions: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)
    bearers: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.base}/token"

    def service_account(self, path: Path, *, project: str = PROJECT, **changes: Any) -> Path:
        """A service-account file as the Firebase console hands it out, pointing here."""
        pem = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
        account = {"type": "service_account", "project_id": project, "private_key_id": KEY_ID,
                   "private_key": pem, "client_email": CLIENT_EMAIL, "client_id": "1234567890",
                   "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": self.token_uri,
                   **changes}
        path.write_text(json.dumps(account))
        return path

    def wait_for(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        """The first ``count`` messages FCM received (accepted or not), waiting for them."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.messages) >= count, timeout), self.messages
            return list(self.messages[:count])

    def revoke(self) -> None:
        self.revoked.update(self.issued)

    # ---- the two endpoints ------------------------------------------------------------------

    def token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != [GRANT] or len(form.get("assertion", [])) != 1:
            return 400, {"error": "unsupported_grant_type"}
        assertion = form["assertion"][0]
        try:
            claims = jwt.decode(assertion, self.key.public_key(), algorithms=["RS256"], audience=self.token_uri,
                                issuer=CLIENT_EMAIL, options={"require": ["iat", "exp", "iss", "aud"]})
        except jwt.InvalidTokenError as exc:
            self.refused.append(f"assertion: {exc}")
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if claims.get("scope") != SCOPE or not 0 < claims["exp"] - claims["iat"] <= 3600:
            self.refused.append(f"claims: {claims}")
            return 400, {"error": "invalid_scope"}
        if self.token_status != 200:
            return self.token_status, {"error": "invalid_client", "error_description": "The client is disabled."}
        self.assertions.append((jwt.get_unverified_header(assertion), claims))
        access = "ya29.fake-" + secrets.token_urlsafe(16)
        self.issued.append(access)
        return 200, {"access_token": access, "expires_in": self.expires_in, "token_type": "Bearer"}

    def send(self, path: str, authorization: str, body: bytes) -> tuple[int, dict[str, Any]]:
        answer = self.fcm_status  # read first: a test may change it once the message is seen
        bearer = authorization.removeprefix("Bearer ")
        if path != f"/v1/projects/{PROJECT}/messages:send":
            return 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "no such project"}}
        if not authorization.startswith("Bearer ") or bearer not in self.issued or bearer in self.revoked:
            self.refused.append("bearer")
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED",
                                   "message": "Request had invalid authentication credentials."}}
        with self.arrived:
            self.messages.append(json.loads(body)["message"])
            self.bearers.append(bearer)
            self.arrived.notify_all()
        if answer == 200:
            return 200, {"name": f"projects/{PROJECT}/messages/{len(self.messages)}"}
        status, code = FCM_ERRORS[answer]
        return answer, {"error": {"code": answer, "status": status, "message": "refused",
                                           "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                                        "errorCode": code}]}}


def _handler(google: FakeGoogle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/token":
                status, answer = google.token(parse_qs(body.decode()))
            else:
                status, answer = google.send(self.path, self.headers.get("Authorization", ""), body)
            raw = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def fake_google() -> Iterator[FakeGoogle]:
    google = FakeGoogle()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(google))
    google.port = server.server_address[1]
    with serving_in_thread(server):
        yield google
