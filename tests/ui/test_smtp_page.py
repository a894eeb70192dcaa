"""The SMTP servers page in headless Chromium against a real tesserad: an admin defines a
server, sends a test email that a real SMTP server (aiosmtpd) receives, and deletes the
definition; the password never comes back to the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import until
from tests.outbox.smtp_sink import Sink
from tests.ui.browser import Ui, running_ui

ROOT_PASSWORD = "root-Secret-1"
SMTP_PASSWORD = "Smtp-ui-secret-5"


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    with running_ui(tmp_path_factory.mktemp("ui"), {"root": ROOT_PASSWORD}) as ui:
        yield ui


def test_an_admin_defines_tests_and_deletes_an_smtp_server(ui: Ui, tmp_path: Path) -> None:
    with Sink(tmp_path) as sink:
        page = ui.page()
        ui.login(page, "root", ROOT_PASSWORD)
        page.get_by_role("link", name="SMTP servers").click()
        page.wait_for_selector("#smtpservers table")
        page.get_by_label("Identifier").fill("mail1")
        page.get_by_label("Server", exact=True).fill("127.0.0.1")
        page.get_by_label("Port").fill(str(sink.port))
        page.get_by_label("Sender address").fill("otp@example.org")
        page.get_by_label("Password").fill(SMTP_PASSWORD)
        page.get_by_label("Timeout").fill("5")
        page.get_by_role("button", name="Save SMTP server").click()
        page.wait_for_selector("#smtpservers td:text-is('mail1')")
        assert page.locator(f"#smtpservers td:text-is('127.0.0.1:{sink.port}')").count() == 1
        assert SMTP_PASSWORD not in page.content()
        ui.shot(page, "20-smtp")
        page.locator("#testmail input[name=recipient]").fill("root@example.org")
        page.get_by_role("button", name="Send test email").click()
        page.wait_for_selector("#status:text('Test email queued')")
        until(lambda: sink.received, "the test email")
        (mail,) = sink.received
        assert mail.recipients == ["root@example.org"] and "mail1 works" in mail.body
        page.get_by_role("button", name="Delete").click()
        page.wait_for_selector("#smtpservers td:text-is('Nothing found.')")
        assert ui.rest.login("root", ROOT_PASSWORD).call("GET", "/smtpserver/") == {}
        assert ui.problems == []
