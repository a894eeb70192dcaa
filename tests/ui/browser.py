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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from passlib.hash import sha512_crypt

from tesserad.core.tokens.oath import hotp

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, require, write_config
from tests.provision import add_admins, provision

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
PASSWORDS = {"alice": "alice-pw-1", "dave": "dave-pw-2", "nina": "nina-pw-3"}


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


def passwd(path: Path, users: dict[str, int]) -> Path:
    path.write_text("".join(f"{name}:{sha512_crypt.using(rounds=1000).hash(PASSWORDS[name])}:{uid}:{uid}:"
                            f"{name.capitalize()} Tester,,,:/home/{name}:/bin/sh\n" for name, uid in users.items()))
    return path


class Ui:
    """The running daemon, its files and one browser for the module."""

    def __init__(self, url: str, files: Path, browser: Any):
        self.url = url
        self.files = files
        self.browser = browser
        self.rest = Rest(url)
        self.problems: list[str] = []

    def page(self, host: str = "127.0.0.1", **context: Any) -> Any:
        """A fresh browser context on ``host`` (no cookies; ``context``: Playwright's context
        options) whose script errors are recorded."""
        context = self.browser.new_context(base_url=self.url.replace("127.0.0.1", host), accept_downloads=True,
                                           **context)
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" and not
                m.text.startswith("Failed to load resource") else None)  # answers like 403 are shown on the page
        page.on("pageerror", lambda exc: self.problems.append(str(exc)))
        return page

    def login(self, page: Any, username: str, password: str, realm: str = "") -> None:
        page.goto("/ui/")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password", exact=True).fill(password)
        page.locator("#realm").fill(realm)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url("**/ui/dashboard" if not realm else "**/ui/tokens")

    def shot(self, page: Any, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@contextmanager
def running_ui(tmp: Path, admins: dict[str, str], **web: Any) -> Iterator[Ui]:
    """A daemon (realm ``example`` over a flat file with alice; the local ``admins``; the
    ``[web]`` settings ``web``) and a headless Chromium."""
    require_browser()
    from playwright.sync_api import sync_playwright
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    data = daemon_config(tmp, web=web)
    config = write_config(tmp, data)
    provision(config, passwd(tmp / "corp", {"alice": 1000}), [])  # keys, schema, realm "example"
    add_admins(config, admins)
    daemon = DaemonProcess(tmp / "run", config).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                yield Ui(f"http://127.0.0.1:{data['web']['listen'][0].split(':')[1]}", tmp, browser)
            finally:
                browser.close()
    finally:
        daemon.stop()
        daemon.close()
