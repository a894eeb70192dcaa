"""Security keys and passkeys in the web UI, in headless Chromium with a CDP virtual
authenticator (ctap2, internal, resident keys, user verification) against a real tesserad on
http://localhost (a secure context, the relying party ``localhost``): a user enrols a passkey
in self-service and signs in with it, usernameless; an admin enrols a security key for the
user in the wizard, and the user signs in with user name, PIN and the key. The login page
keeps its strict Content-Security-Policy; screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.browser import PASSWORDS, Ui, running_ui

ROOT_PASSWORD = "root-Secret-1"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    with running_ui(tmp_path_factory.mktemp("ui-webauthn"), {"root": ROOT_PASSWORD}) as ui:
        root = ui.rest.login("root", ROOT_PASSWORD)
        for name, scope, action in (
                ("rp", "enrollment", {"webauthn_relying_party_id": "localhost",
                                      "webauthn_relying_party_name": "Tessera"}),
                ("tokens", "webui", {"login_mode": "privacyIDEA"}),
                ("passthru", "authentication", {"passthru": "userstore"})):
            root.call("POST", f"/policy/{name}", {"scope": scope, "action": action, "realm": "example"})
        yield ui


def with_authenticator(ui: Ui) -> tuple[Any, Any, str]:
    """A page on localhost with a virtual platform authenticator: the page, its CDP session
    and the authenticator's id."""
    page = ui.page(host="localhost")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return page, cdp, added["authenticatorId"]


def tokens_of_alice(ui: Ui, kind: str) -> list[dict[str, Any]]:
    root = ui.rest.login("root", ROOT_PASSWORD)
    return root.call("GET", "/token/", {"user": "alice", "realm": "example", "type": kind})["tokens"]


def admin_enrols_security_key(ui: Ui, page: Any, pin: str) -> None:
    """root, in the wizard: a webauthn token with ``pin`` for alice, from the page's authenticator."""
    ui.login(page, "root", ROOT_PASSWORD)
    page.goto("/ui/enroll")
    page.get_by_label("Token type").select_option("webauthn")
    page.locator("#user").fill("alice")
    page.locator("#realm").select_option("example")
    page.locator("#pin").fill(pin)
    page.get_by_role("button", name="Enroll").click()
    page.wait_for_selector("#status:text('enrolled')")


def sign_in_again(page: Any, pin: str) -> None:
    """Log out, then send alice's name and ``pin`` from the login form."""
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/ui/login")
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password", exact=True).fill(pin)
    page.locator("#realm").fill("example")
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_the_login_page_keeps_its_strict_csp(ui: Ui) -> None:
    page = ui.page(host="localhost")
    response = page.goto("/ui/login")
    assert response.headers["content-security-policy"] == CSP
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("script[src='/static/js/login.js']").count() == 1


def test_self_service_passkey_then_usernameless_login(ui: Ui) -> None:
    page, cdp, authenticator = with_authenticator(ui)
    ui.login(page, "alice", PASSWORDS["alice"], "example")  # passthru: alice has no token yet
    page.goto("/ui/enroll")
    page.get_by_label("Token type").select_option("passkey")
    page.get_by_role("button", name="Enroll").click()
    page.wait_for_selector("#status:text('enrolled')")
    [token] = tokens_of_alice(ui, "passkey")
    assert token["rollout_state"] == "enrolled" and token["active"] is True
    assert page.locator("#serial").inner_text() == token["serial"]
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert credential["isResidentCredential"] is True and credential["rpId"] == "localhost"
    ui.shot(page, "webauthn-01-passkey-enrolled")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/ui/login")
    ui.shot(page, "webauthn-02-login-page")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url("**/ui/tokens")
    assert page.locator("body").get_attribute("data-user") == "alice"
    assert page.locator("body").get_attribute("data-realm") == "example"
    page.wait_for_selector(f"#tokens a:text-is('{token['serial']}')")
    ui.shot(page, "webauthn-03-passkey-signed-in")
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert tokens_of_alice(ui, "passkey")[0]["count"] == credential["signCount"] > 0
    assert ui.problems == []


def test_admin_enrols_a_security_key_and_the_user_signs_in_with_pin_and_key(ui: Ui) -> None:
    page, cdp, authenticator = with_authenticator(ui)
    admin_enrols_security_key(ui, page, "7531")
    [token] = tokens_of_alice(ui, "webauthn")
    # privacyIDEA 3.8 leaves a registered webauthn token's rollout state empty
    assert token["rollout_state"] == "" and page.locator("#serial").inner_text() == token["serial"]
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]) == 1
    ui.shot(page, "webauthn-04-security-key-enrolled")

    sign_in_again(page, "7531")
    page.wait_for_url("**/ui/tokens")
    assert page.locator("body").get_attribute("data-user") == "alice"
    ui.shot(page, "webauthn-05-security-key-signed-in")
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    count = tokens_of_alice(ui, "webauthn")[0]["count"]
    assert count == credential["signCount"] > 0  # the token's counter is the key's signature counter

    sign_in_again(page, "0000")  # a wrong PIN asks the key for nothing
    page.wait_for_selector("#error:not([hidden])")
    assert page.url.endswith("/ui/login") and tokens_of_alice(ui, "webauthn")[0]["count"] == count
    assert ui.problems == []


def test_with_an_otp_token_on_the_same_pin_the_user_picks_the_security_key(ui: Ui) -> None:
    """After the admin's security key (the test above): an HOTP token with the same PIN makes
    the login ask for the OTP first (preferred_client_mode), and "Use my security key" answers
    the WebAuthn challenge instead."""
    root = ui.rest.login("root", ROOT_PASSWORD)
    root.call("POST", "/policy/challenge", {"scope": "authentication", "realm": "example",
                                            "action": {"challenge_response": "hotp"}})
    root.call("POST", "/token/init", {"type": "hotp", "user": "alice", "realm": "example", "pin": "8642",
                                      "otpkey": "3132333435363738393031323334353637383930"})
    page, cdp, authenticator = with_authenticator(ui)
    admin_enrols_security_key(ui, page, "8642")
    sign_in_again(page, "8642")
    page.get_by_role("button", name="Use my security key").wait_for()
    assert page.get_by_label("One-time password").is_visible()
    ui.shot(page, "webauthn-06-otp-or-security-key")
    page.get_by_role("button", name="Use my security key").click()
    page.wait_for_url("**/ui/tokens")
    assert page.locator("body").get_attribute("data-user") == "alice"
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert credential["signCount"] in [t["count"] for t in tokens_of_alice(ui, "webauthn")]
    assert tokens_of_alice(ui, "hotp")[0]["count"] == 0  # the HOTP token was not used
    assert ui.problems == []
