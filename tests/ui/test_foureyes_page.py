"""The enrolment wizard offers the 4eyes token from the type registry: an admin enrols one
for alice in headless Chromium against a real tesserad, naming the realm and the count."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui.browser import Ui, running_ui

PASSWORD = "root-Secret-1"


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    with running_ui(tmp_path_factory.mktemp("ui"), {"root": PASSWORD}) as ui:
        yield ui


def test_admin_enrols_a_4eyes_token(ui: Ui) -> None:
    page = ui.page()
    ui.login(page, "root", PASSWORD)
    page.get_by_role("link", name="Enroll a token").click()
    page.get_by_label("Token type").select_option("4eyes")
    assert "4EYES: Four Eyes Token" in page.locator("#type option[value='4eyes']").inner_text()
    page.get_by_label("Realms and how many tokens of each").fill("example:2")
    page.locator("#user").fill("alice")
    page.get_by_role("button", name="Enroll").click()
    page.wait_for_selector("text=Nothing more to set up for this token.")
    serial = page.locator("#serial").inner_text()
    assert serial.startswith("PI4E")
    ui.shot(page, "4eyes-01-enrolled")
    [token] = ui.rest.login("root", PASSWORD).call("GET", "/token/", {"serial": serial})["tokens"]
    assert token["info"] == {"4eyes": "example:2", "separator": " "} and token["username"] == "alice"
    assert ui.problems == []
