"""Webui-scope policies: what the login answer (``POST /auth``, which the web UI and
privacyIDEA's UI read) tells the UI with and without each policy, and what the login page
offers (``realm_dropdown``, ``login_text``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.people import PASSWORDS
from tests.http.restapi import Api
from tests.ui.test_session_http import send

PNG = "data:image/png;base64,"
NODE = object()  # this server's node name


def login_value(api: Api) -> dict[str, Any]:
    status, body = api.call("POST", "/auth", params={"username": "erin@sales", "password": PASSWORDS["erin"]})
    assert status == 200, body
    return body["result"]["value"]


@pytest.mark.parametrize(("action", "key", "shown"), [
    pytest.param("timeout_action=logout", "timeout_action", "logout",
                 marks=pytest.mark.policy_action("webui", "timeout_action")),
    pytest.param("audit_page_size=25", "audit_page_size", 25,
                 marks=pytest.mark.policy_action("webui", "audit_page_size")),
    pytest.param("user_page_size=30", "user_page_size", 30,
                 marks=pytest.mark.policy_action("webui", "user_page_size")),
    pytest.param("policy_template_url=https://templates.example/", "policy_template_url",
                 "https://templates.example/", marks=pytest.mark.policy_action("webui", "policy_template_url")),
    pytest.param("default_tokentype=totp", "default_tokentype", "totp",
                 marks=pytest.mark.policy_action("webui", "default_tokentype")),
    pytest.param("tokenwizard", "token_wizard", True, marks=pytest.mark.policy_action("webui", "tokenwizard")),
    pytest.param("tokenwizard_2nd_token", "token_wizard_2nd", True,
                 marks=pytest.mark.policy_action("webui", "tokenwizard_2nd_token")),
    pytest.param("search_on_enter", "search_on_enter", True,
                 marks=pytest.mark.policy_action("webui", "search_on_enter")),
    pytest.param("user_details", "user_details", True, marks=pytest.mark.policy_action("webui", "user_details")),
    pytest.param("deletion_confirmation", "deletion_confirmation", True,
                 marks=pytest.mark.policy_action("webui", "deletion_confirmation")),
    pytest.param("show_seed", "show_seed", True, marks=pytest.mark.policy_action("webui", "show_seed")),
    pytest.param("admin_dashboard", "admin_dashboard", True,
                 marks=pytest.mark.policy_action("webui", "admin_dashboard")),
    pytest.param("dialog_no_token", "dialog_no_token", True,
                 marks=pytest.mark.policy_action("webui", "dialog_no_token")),
    pytest.param("hide_welcome_info", "hide_welcome", True,
                 marks=pytest.mark.policy_action("webui", "hide_welcome_info")),
    pytest.param("logout_redirect=https://portal.example/", "logout_redirect_url", "https://portal.example/",
                 marks=pytest.mark.policy_action("webui", "logout_redirect")),
    pytest.param("indexedsecret_preset_attribute=email", "indexedsecret_preset_attribute", "email",
                 marks=pytest.mark.policy_action("webui", "indexedsecret_preset_attribute")),
    pytest.param("show_node", "show_node", NODE, marks=pytest.mark.policy_action("webui", "show_node")),
])
def test_a_webui_policy_changes_the_login_answer(people: Api, action: str, key: str, shown: Any) -> None:
    shown = people.rest.node if shown is NODE else shown
    before = login_value(people)[key]
    assert before != shown
    people.policy("ui", scope="webui", action=action, realm="sales")
    assert login_value(people)[key] == shown


@pytest.mark.parametrize(("action", "key"), [
    pytest.param("show_android_privacyidea_authenticator", "qr_image_android",
                 marks=pytest.mark.policy_action("webui", "show_android_privacyidea_authenticator")),
    pytest.param("show_ios_privacyidea_authenticator", "qr_image_ios",
                 marks=pytest.mark.policy_action("webui", "show_ios_privacyidea_authenticator")),
    pytest.param("show_custom_authenticator=https://app.example/get", "qr_image_custom",
                 marks=pytest.mark.policy_action("webui", "show_custom_authenticator")),
])
def test_app_links_are_qr_codes_in_the_login_answer(people: Api, action: str, key: str) -> None:
    assert login_value(people)[key] is None
    people.policy("ui", scope="webui", action=action, realm="sales")
    assert login_value(people)[key].startswith(PNG)


@pytest.mark.policy_action("webui", "realm_dropdown")
@pytest.mark.policy_action("webui", "login_text")
def test_the_login_page_offers_the_policys_realms_and_text(people: Api) -> None:
    status, _, page = send(people, "GET", "/ui/login")
    assert status == 200 and b"Please sign in" in page and b'<select id="realm"' not in page
    people.policy("page", scope="webui", action="realm_dropdown=sales staff, login_text='Welcome to ACME'")
    status, _, page = send(people, "GET", "/ui/login")
    assert b"Welcome to ACME" in page and b"Please sign in" not in page
    assert b'<option value="sales">sales</option>' in page and b'<option value="staff">staff</option>' in page
