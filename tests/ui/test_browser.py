"""The web UI end to end in headless Chromium against a real tesserad: an admin builds a realm
over a flat-file resolver, enrols and verifies a TOTP token for a user by reading the QR
code's payload, the user logs in, sees the token and disables it; a help-desk admin limited
to one realm sees only that realm; the wizard enrols a 4eyes token, a type it offers from the
registry. Every page is screenshotted into test-artifacts/ui/, and
any script error or CSP violation in the browser fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from tesserad.core.policy.actions import ADMIN, REGISTRY
from tesserad.core.store import Database
from tesserad.core.store.models import Policy
from tesserad.daemon.config import load as load_config

from tests.ui.browser import PASSWORDS, Ui, passwd, running_ui, totp_now

ROOT_PASSWORD, HELPDESK_PASSWORD = "root-Secret-1", "help-Desk-2"


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    with running_ui(tmp_path_factory.mktemp("ui"), {"root": ROOT_PASSWORD, "helpdesk": HELPDESK_PASSWORD}) as ui:
        yield ui


def test_admin_enrols_a_verified_totp_and_the_user_disables_it(ui: Ui) -> None:
    root = ui.rest.login("root", ROOT_PASSWORD)
    root.call("POST", "/policy/verify", {"scope": "enrollment", "action": {"verify_enrollment": "totp"}})
    page = ui.page()
    page.goto("/")
    page.wait_for_url("**/ui/login")
    ui.shot(page, "01-login")
    ui.login(page, "root", ROOT_PASSWORD)
    page.wait_for_selector("#health:text('OK')")
    ui.shot(page, "02-dashboard")

    # A realm over a flat-file resolver, with the connection tested first.
    page.get_by_role("link", name="Resolvers and realms").click()
    page.locator("#resolver-name").fill("corpfiles")
    page.get_by_label("Type").select_option("passwdresolver")
    page.locator("#resolver-settings").fill(f"fileName={ui.files / 'corp'}")
    page.get_by_role("button", name="Test connection").click()
    page.wait_for_selector("#status:text('Connection OK')")
    page.get_by_role("button", name="Save resolver").click()
    page.wait_for_selector("#realm-resolvers input[value=corpfiles]").check()
    page.locator("#realm-name").fill("corp")
    page.get_by_role("button", name="Save realm").click()
    page.wait_for_selector("#realms td:text-is('corp')")
    ui.shot(page, "03-realms")

    # Enrol a TOTP token for alice: read the secret from the QR code's URI and verify it.
    page.get_by_role("link", name="Enroll a token").click()
    page.get_by_label("Token type").select_option("totp")
    page.locator("#user").fill("alice")
    page.locator("#realm").select_option("corp")
    page.get_by_role("button", name="Enroll").click()
    qr = page.wait_for_selector("#details img[data-uri]")
    uri = qr.get_attribute("data-uri")
    assert uri.startswith("otpauth://totp/") and qr.get_attribute("src").startswith("data:image/")
    serial = page.locator("#serial").inner_text()
    assert root.call("GET", "/token/", {"serial": serial})["tokens"][0]["rollout_state"] == "verify"
    ui.shot(page, "04-enroll-qr")
    page.get_by_label("One-time password").fill(totp_now(uri))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_selector("#status:text('verified and ready')")
    secret = uri.split("secret=")[1].split("&")[0]
    assert page.locator("#details img").count() == 0 and secret not in page.content()
    assert root.call("GET", "/token/", {"serial": serial})["tokens"][0]["rollout_state"] == "enrolled"
    ui.shot(page, "05-enroll-done")

    page.get_by_role("link", name="Show the token").click()
    page.wait_for_selector("#props dd:text-is('alice@corp')")
    page.wait_for_selector("#trail td:text-is('POST /token/init')")
    ui.shot(page, "06-token")
    page.get_by_role("link", name="Tokens").click()
    page.get_by_role("link", name=serial).wait_for()
    ui.shot(page, "07-tokens")
    for link, ready, name in (("Users", "#users td", "08-users"), ("Policies", "#policies td", "09-policies"),
                              ("System configuration", "#config", "10-system"),
                              ("RADIUS clients", "table", "11-radius"), ("Audit log", "#audit td", "12-audit")):
        page.get_by_role("link", name=link, exact=True).click()
        page.wait_for_selector(ready)
        ui.shot(page, name)
    page.get_by_label("Serial").fill(serial)
    page.get_by_role("button", name="Search").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    exported = Path(download.value.path()).read_text()
    assert serial in exported and "POST /token/init" in exported
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/ui/login")
    assert "tesserad_session" not in {c["name"] for c in page.context.cookies()}

    # alice logs in, sees her token and disables it.
    user = ui.page()
    ui.login(user, "alice", PASSWORDS["alice"], "corp")
    assert not any(c["name"] == "tesserad_session" and not c["httpOnly"] for c in user.context.cookies())
    assert user.evaluate("document.cookie") == ""
    user.get_by_role("link", name=serial).click()
    user.get_by_role("button", name="Disable").click()
    user.wait_for_selector("#props dd:text-is('disabled')")
    ui.shot(user, "13-user-token")
    assert root.call("GET", "/token/", {"serial": serial})["tokens"][0]["active"] is False
    assert "Dashboard" not in user.locator("nav").inner_text()
    assert ui.problems == []


def test_the_wizard_offers_the_4eyes_type_from_the_registry(ui: Ui) -> None:
    page = ui.page()
    ui.login(page, "root", ROOT_PASSWORD)
    page.get_by_role("link", name="Enroll a token").click()
    page.get_by_label("Token type").select_option("4eyes")
    assert "4EYES: Four Eyes Token" in page.locator("#type option[value='4eyes']").inner_text()
    page.get_by_label("Realms and how many tokens of each").fill("example:2")
    page.locator("#user").fill("alice")
    page.locator("#realm").select_option("example")
    page.get_by_role("button", name="Enroll").click()
    page.wait_for_selector("text=Nothing more to set up for this token.")
    serial = page.locator("#serial").inner_text()
    ui.shot(page, "14-enroll-4eyes")
    [token] = ui.rest.login("root", ROOT_PASSWORD).call("GET", "/token/", {"serial": serial})["tokens"]
    assert serial.startswith("PI4E") and token["username"] == "alice"
    assert token["info"] == {"4eyes": "example:2", "separator": " "}
    assert ui.problems == []


def test_static_files_are_served_safely(ui: Ui) -> None:
    page = ui.page()
    response = page.request.get("/static/js/lib.js")
    assert response.ok and response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert page.request.get("/static/js/").status == 404


def test_a_helpdesk_admin_sees_only_its_realm(ui: Ui) -> None:
    root = ui.rest.login("root", ROOT_PASSWORD)
    for realm, user, uid in (("sales", "dave", 2000), ("north", "nina", 3000)):
        root.call("POST", f"/resolver/{realm}files", {"type": "passwdresolver",
                                                      "fileName": str(passwd(ui.files / realm, {user: uid}))})
        root.call("POST", f"/realm/{realm}", {"resolvers": f"{realm}files"})
        root.call("POST", "/token/init", {"type": "spass", "user": user, "realm": realm, "serial": f"PW-{realm}"})
    everything = ", ".join(name for name, action in REGISTRY[ADMIN].items() if action.type == "bool")
    root.call("POST", "/policy/superadmin", {"scope": "admin", "adminuser": "root", "action": everything})
    root.call("POST", "/policy/helpdesk", {"scope": "admin", "adminuser": "helpdesk", "realm": "sales",
                                           "action": "tokenlist, userlist, enrollTOTP, enable, disable, "
                                                     "resolverread, auditlog"})
    page = ui.page()
    ui.login(page, "helpdesk", HELPDESK_PASSWORD)
    pages = {"tokens": "#tokens td a", "users": "#users td", "realms": "#realms td", "audit": "#audit td",
             "enroll": "#realm option[value=sales]"}
    for name, ready in pages.items():
        page.goto(f"/ui/{name}")
        page.wait_for_selector(ready, state="attached")
        page.wait_for_load_state("networkidle")
        text = page.locator("main").inner_text() + " ".join(page.locator("option").all_inner_texts())
        assert not [other for other in ("north", "nina", "corp", "example") if other in text], name
        ui.shot(page, f"20-helpdesk-{name}")
        if name == "tokens":
            assert page.locator("#tokens td a").all_inner_texts() == ["PW-sales"]
    assert ui.problems == []


def test_saving_a_policy_with_an_action_not_supported_shows_the_refusal(ui: Ui) -> None:
    root = ui.rest.login("root", ROOT_PASSWORD)
    root.call("POST", "/policy/legacy", {"scope": "authentication", "action": "otppin=userstore"})
    database = Database(load_config(ui.files / "tesserad.toml").database.url)
    try:  # as an earlier version stored it
        with database.session() as session:
            session.execute(update(Policy).where(Policy.name == "legacy").values(
                action="otppin=userstore, push_wait=20"))
            session.commit()
    finally:
        database.dispose()
    page = ui.page()
    ui.login(page, "root", ROOT_PASSWORD)
    page.goto("/ui/policies")
    page.get_by_role("button", name="legacy").click()
    assert page.locator("#action-push_wait").input_value() == "20"
    page.get_by_role("button", name="Save policy").click()
    refusal = page.get_by_role("alert").filter(has_text="push_wait")
    refusal.wait_for()
    assert "'push_wait' is a privacyIDEA action of scope 'authentication' that tesserad does not support yet" in \
        refusal.inner_text()
    ui.shot(page, "30-policy-refused")
    page.locator("#action-push_wait").fill("")
    page.locator("#action-passthru_assign").fill("pin-6")
    page.get_by_role("button", name="Save policy").click()
    page.get_by_role("alert").filter(has_text="expected the form pin:6, 6:pin or pin:6:10000").wait_for()
    page.locator("#action-passthru_assign").fill("")
    page.get_by_role("button", name="Save policy").click()
    page.get_by_text("Policy legacy saved.").wait_for()
    assert root.call("GET", "/policy/legacy")[0]["action"] == {"otppin": "userstore"}
    assert ui.problems == []
