"""The SMS gateway page in headless Chromium against a real tesserad: an admin defines an
HTTP gateway pointing at a local HTTP sink, sees it listed with its password censored, sends
a test SMS that the daemon's outbox delivers to the sink, and deletes the gateway; the page
offers the Firebase provider for push tokens too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fcm.fake_google import FakeGoogle
from tests.sms.sink import http_sink
from tests.ui.browser import Ui, running_ui

PASSWORD = "root-Secret-1"


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    with running_ui(tmp_path_factory.mktemp("ui"), {"root": PASSWORD}) as ui:
        yield ui


def test_admin_defines_tests_and_deletes_a_gateway(ui: Ui) -> None:
    page = ui.page()
    ui.login(page, "root", PASSWORD)
    page.get_by_role("link", name="SMS gateways").click()
    page.wait_for_url("**/ui/smsgateway")
    with http_sink() as sink:
        page.locator("#gateway-name").fill("gw1")
        page.get_by_label("Provider").select_option("privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider")
        page.wait_for_selector("#gateway-parameters:has-text('URL (required)')")
        page.locator("#gateway-options").fill(f"URL={sink.url}\nHTTP_METHOD=POST\nPASSWORD=Sms-pw-55\n"
                                              "to={phone}\ntext={otp}")
        page.get_by_role("button", name="Save gateway").click()
        page.wait_for_selector("#gateways td:text-is('gw1')")
        assert "PASSWORD=__CENSORED__" in page.locator("#gateways").inner_text()
        assert "Sms-pw-55" not in page.content()
        ui.shot(page, "sms-01-gateways")
        page.get_by_label("Phone number").fill("+49 170 5550123")
        page.get_by_role("button", name="Send test SMS").click()
        page.wait_for_selector("text=Test SMS queued")
        (received,) = sink.wait_for(1)
        assert received.form() == {"to": ["+49 170 5550123"], "text": ["tesserad test SMS through the gateway gw1"]}
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    page.wait_for_selector("#gateways td:text-is('Nothing found.')")
    assert ui.rest.login("root", PASSWORD).call("GET", "/smsgateway/") == []
    assert ui.problems == []


def test_admin_defines_a_firebase_gateway(ui: Ui, tmp_path: Path) -> None:
    account = FakeGoogle().service_account(tmp_path / "service-account.json")
    page = ui.page()
    ui.login(page, "root", PASSWORD)
    page.get_by_role("link", name="SMS gateways").click()
    page.wait_for_url("**/ui/smsgateway")
    page.locator("#gateway-name").fill("fb1")
    page.get_by_label("Provider").select_option("privacyidea.lib.smsprovider.FirebaseProvider.FirebaseProvider")
    page.wait_for_selector("#gateway-parameters:has-text('JSON config file (required)')")
    page.locator("#gateway-options").fill(f"JSON config file={account}")
    page.get_by_role("button", name="Save gateway").click()
    page.wait_for_selector("#gateways td:text-is('fb1')")
    assert "FirebaseProvider" in page.locator("#gateways").inner_text()
    [shown] = ui.rest.login("root", PASSWORD).call("GET", "/smsgateway/")
    assert shown["options"] == {"JSON config file": str(account)}
    assert ui.problems == []
