"""A first token enrolled at the web UI login (enroll_via_multichallenge with webui
login_mode=privacyIDEA), in headless Chromium against a real tesserad: the login form shows
the new token's QR code, and its first value signs the user in."""

from __future__ import annotations

import pytest

from tesserad.core.context import Context
from tesserad.core.tokens import oath
from tesserad.core.tokens.otpauth import otpauth_uri, qr_data_uri
from tesserad.daemon import config as configuration

from tests.ui.test_browser import PASSWORDS, ROOT_PASSWORD, Ui, ui  # noqa: F401  (ui: a fixture)


def seed_and_url(ui: Ui, serial: str) -> tuple[bytes, str]:
    """What the authenticator app reads from the QR code, from the daemon's store."""
    ctx = Context.open(configuration.load(str(ui.files / "tesserad.toml"), env={}))
    try:
        with ctx.database.session() as session:
            key = ctx.tokens.get(session, serial).secret()
            return key, otpauth_uri("hotp", key, serial, "tesserad", digits=6, hashlib_name="sha1", counter=0)
    finally:
        ctx.close()


@pytest.mark.policy_action("authentication", "enroll_via_multichallenge")
def test_the_login_form_shows_the_qr_code_of_the_new_token(ui: Ui) -> None:
    root = ui.rest.login("root", ROOT_PASSWORD)
    for name, scope, action in (("tokens", "webui", {"login_mode": "privacyIDEA"}),
                                ("passthru", "authentication", {"passthru": "userstore"}),
                                ("enroll", "authentication", {"enroll_via_multichallenge": "hotp"})):
        root.call("POST", f"/policy/{name}", {"scope": scope, "action": action, "realm": "example"})
    page = ui.page()
    page.goto("/ui/")
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password", exact=True).fill(PASSWORDS["alice"])
    page.locator("#realm").fill("example")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator("#challenge-image").wait_for(state="visible")
    assert page.locator("#challenge-message").text_content() == "Please scan the QR code!"
    [token] = root.call("GET", "/token/", {"user": "alice", "realm": "example"})["tokens"]
    assert token["rollout_state"] == "clientwait"
    key, url = seed_and_url(ui, token["serial"])
    assert page.locator("#challenge-image").get_attribute("src") == qr_data_uri(url)
    ui.shot(page, "login-enrollment")
    page.get_by_label("One-time password").fill(oath.hotp(key, 0))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/ui/tokens")
    [token] = root.call("GET", "/token/", {"user": "alice", "realm": "example"})["tokens"]
    assert token["rollout_state"] == "enrolled"
    assert ui.problems == []
