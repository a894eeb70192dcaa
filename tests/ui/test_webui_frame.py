"""The webui policies that frame the pages and the login, in headless Chromium against a real
tesserad: remote_user (a trusted proxy's X-Remote-User; the browser's own connection from
127.0.0.1 stands in for the proxy), custom_baseline, custom_menu and privacy_statement_link."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.browser import Rest, Ui, running_ui

ROOT_PASSWORD = "root-Secret-1"
BASELINE = ('<p id="my-baseline">Help desk: ext. 4711{% if privacy_statement_link %} '
            '<a id="my-privacy" href="{{ privacy_statement_link }}">Privacy</a>{% endif %}</p>')
MENU = '<ul id="my-menu">{% for item in nav %}<li><a href="/ui/{{ item.name }}">{{ item.title|upper }}</a></li>' \
       '{% endfor %}</ul>'


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    tmp = tmp_path_factory.mktemp("frame")
    custom = tmp / "custom"
    custom.mkdir()
    (custom / "baseline.html").write_text(BASELINE)
    (custom / "menu.html").write_text(MENU)
    with running_ui(tmp, {"root": ROOT_PASSWORD}, remote_user_proxies=["127.0.0.1"],
                    customization_dir=str(custom)) as ui:
        yield ui


def webui(root: Rest, name: str, action: dict[str, Any], **where: str) -> None:
    root.call("POST", f"/policy/{name}", {"scope": "webui", "action": action, **where})


@pytest.mark.policy_action("webui", "remote_user")
def test_the_user_a_trusted_proxy_names_signs_in_without_a_password(ui: Ui) -> None:
    root = ui.rest.login("root", ROOT_PASSWORD)
    proxied = {"extra_http_headers": {"X-Remote-User": "alice"}}
    page = ui.page(**proxied)
    page.goto("/ui/login")  # remote_user is disable by default: the proxy's word counts for nothing
    assert page.locator("#remote-login").count() == 0 and page.locator("#login").is_visible()

    webui(root, "sso", {"remote_user": "allowed"})
    page.goto("/ui/login")
    assert page.locator("#remote-name").inner_text() == "alice"
    assert page.locator("#login").is_visible()  # allowed: credentials remain possible
    ui.shot(page, "30-remote-user-allowed")
    plain = ui.page()  # the same policy, no proxy header: the usual form only
    plain.goto("/ui/login")
    assert plain.locator("#remote-login").count() == 0 and plain.locator("#login").is_visible()

    webui(root, "sso", {"remote_user": "force"})
    page.goto("/ui/login")
    assert page.locator("#login").count() == 0
    ui.shot(page, "31-remote-user-force")
    page.get_by_role("button", name="Continue as alice").click()
    page.wait_for_url("**/ui/tokens")
    assert page.locator(".who span").inner_text() == "alice@example (user)"

    nobody = ui.page(extra_http_headers={"X-Remote-User": "mallory"})
    nobody.goto("/ui/login")  # a name unknown here: the usual form
    assert nobody.locator("#remote-login").count() == 0 and nobody.locator("#login").is_visible()
    webui(root, "sso", {"remote_user": "disable"})
    assert ui.problems == []


@pytest.mark.policy_action("webui", "privacy_statement_link")
@pytest.mark.policy_action("webui", "custom_baseline")
@pytest.mark.policy_action("webui", "custom_menu")
def test_baseline_menu_and_privacy_link_follow_the_policies(ui: Ui) -> None:
    root = ui.rest.login("root", ROOT_PASSWORD)
    page = ui.page()
    page.goto("/ui/login")
    assert page.locator("#privacy-statement").count() == 0
    assert "Tessera multi-factor authentication" in page.locator("footer").inner_text()

    webui(root, "privacy", {"privacy_statement_link": "https://example.com/privacy"})
    page.goto("/ui/login")
    assert page.locator("#privacy-statement").get_attribute("href") == "https://example.com/privacy"

    webui(root, "frame", {"custom_baseline": "baseline.html", "custom_menu": "menu.html"})
    page.goto("/ui/login")
    assert page.locator("footer #my-baseline").inner_text() == "Help desk: ext. 4711 Privacy"
    assert page.locator("#my-privacy").get_attribute("href") == "https://example.com/privacy"
    assert "Tessera multi-factor" not in page.locator("footer").inner_text()
    ui.login(page, "root", ROOT_PASSWORD)
    assert page.locator("#my-menu a").all_inner_texts()[:2] == ["DASHBOARD", "TOKENS"]
    assert page.locator("footer #my-baseline").is_visible()
    ui.shot(page, "32-custom-menu-and-baseline")
    page.locator("#my-menu a", has_text="TOKENS").click()
    page.wait_for_url("**/ui/tokens")

    # Bound to other clients, the policies leave this browser the built-in frame; a template
    # that does not exist falls back to it too.
    webui(root, "frame", {"custom_baseline": "baseline.html", "custom_menu": "menu.html"}, client="192.0.2.0/24")
    page.goto("/ui/dashboard")
    assert page.locator("#my-menu").count() == 0 and page.get_by_role("link", name="Tokens").is_visible()
    webui(root, "frame", {"custom_baseline": "missing.html"})
    page.goto("/ui/dashboard")
    assert page.locator("#my-baseline").count() == 0 and page.locator("#privacy-statement").is_visible()
    assert ui.problems == []
