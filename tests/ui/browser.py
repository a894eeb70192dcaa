"""Headless Chromium (Debian's, driven by Playwright without any browser download) against a
real tesserad, with the REST API at hand for setting up what a test does not click through."""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tesserad.core.tokens.oath import hotp

from tests.helpers import require

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


def require_browser() -> None:
    require(os.path.exists(CHROMIUM) and shutil.which("chromium") is not None,
            "chromium is not installed (scripts/install-test-deps.sh)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, "playwright is not installed (pip install -e .[test])")


class Rest:
    """The REST API with an ``Authorization`` header, for setting up and checking."""

    def __init__(self, url: str, token: str | None = None):
        self.url = url
        self.token = token

    def call(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": self.token} if self.token else {}
        data = None
        url = self.url + path
        if method in ("GET", "DELETE"):
            url += "?" + urllib.parse.urlencode(params or {})
        else:
            data, headers["Content-Type"] = json.dumps(params or {}).encode(), "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()!r}") from None
        return answer["result"]["value"]

    def login(self, username: str, password: str, realm: str = "") -> Rest:
        value = self.call("POST", "/auth", {"username": username, "password": password, "realm": realm})
        return Rest(self.url, value["token"])


def totp_now(otpauth: str) -> str:
    """The current TOTP value of an ``otpauth://totp/...`` URI (what a phone app shows)."""
    query = urllib.parse.parse_qs(urllib.parse.urlparse(otpauth).query)
    secret = query["secret"][0]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    step = int(query.get("period", ["30"])[0])
    return hotp(key, int(time.time()) // step, int(query.get("digits", ["6"])[0]),
                query.get("algorithm", ["SHA1"])[0].lower())
