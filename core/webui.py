"""What a successful ``POST /auth`` tells the web UI: the caller's rights, its menus and the
webui-scope settings, each with the spec's default when no policy sets it; and what the
login page offers an anonymous caller."""

from __future__ import annotations

from typing import Any

import segno
from sqlalchemy.orm import Session

from tesserad.core.policy.actions import REGISTRY, WEBUI
from tesserad.core.policy.matching import PolicyQuery, PolicySet
from tesserad.core.policy.store import PolicyStore
from tesserad.core.rights import Rights, Target
from tesserad.core.sessions import Identity
from tesserad.core.tokens.registry import load_all

# Response key -> webui action, for value actions and for switches.
VALUES = {"logout_time": "logout_time", "audit_page_size": "audit_page_size",
          "token_page_size": "token_page_size", "user_page_size": "user_page_size",
          "policy_template_url": "policy_template_url", "default_tokentype": "default_tokentype",
          "timeout_action": "timeout_action", "logout_redirect_url": "logout_redirect",
          "indexedsecret_preset_attribute": "indexedsecret_preset_attribute"}
SWITCHES = {"user_details": "user_details", "token_wizard": "tokenwizard",
            "token_wizard_2nd": "tokenwizard_2nd_token", "admin_dashboard": "admin_dashboard",
            "dialog_no_token": "dialog_no_token", "search_on_enter": "search_on_enter",
            "hide_welcome": "hide_welcome_info", "hide_buttons": "hide_buttons", "show_seed": "show_seed",
            "deletion_confirmation": "deletion_confirmation"}
# A menu is shown when the caller has one of its rights (token menus: any enroll right too).
# privacyIDEA's other config rights and its components menu belong to features tesserad
# does not have.
MENUS = {"tokens": ("tokenlist",), "users": ("userlist",), "machines": ("machinelist", "manage_machine_tokens"),
         "config": ("policyread", "policywrite", "resolverread", "resolverwrite", "configread", "configwrite",
                    "mresolverread", "smsgateway_read"),
         "audit": ("auditlog",)}
APP_LINKS = {"qr_image_android": ("show_android_privacyidea_authenticator",
                                  "https://play.google.com/store/apps/details?id=it.netknights.piauthenticator"),
             "qr_image_ios": ("show_ios_privacyidea_authenticator",
                              "https://apps.apple.com/us/app/privacyidea-authenticator/id1445401301")}
LOG_LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40, "critical": 50}


def enrollable_types(rights: Rights) -> dict[str, str]:
    """Token types the caller may enroll, with their titles (``GET /auth/rights``)."""
    return {name: cls.title for name, cls in sorted(load_all().items())
            if (rights.identity.is_admin or cls.user_enrollable) and rights.allowed_somewhere(f"enroll{name.upper()}")}


def granted(rights: Rights) -> list[str]:
    """The switches of the caller's scope that its policies grant; enroll rights only for
    token types this server has."""
    types = {f"enroll{name.upper()}" for name in enrollable_types(rights)}
    return [name for name, action in REGISTRY[rights.scope].items()
            if action.type == "bool" and not name.startswith("enroll")
            and rights.allowed_somewhere(name)] + sorted(types)


def menus(identity: Identity, rights: list[str]) -> list[str]:
    have = set(rights)
    shown = []
    for menu, needed in MENUS.items():
        tokens = menu == "tokens" and (not identity.is_admin or any(r.startswith("enroll") for r in have))
        if tokens or have.intersection(needed):
            shown.append(menu)
    return shown


def login_value(rights: Rights, token: str, node: str, log_level: str) -> dict[str, Any]:
    """``result.value`` of ``POST /auth``."""
    identity = rights.identity
    target = Target.of_user(identity.user)
    rights_list = granted(rights)
    value: dict[str, Any] = {"token": token, "role": identity.role, "username": identity.username,
                             "realm": identity.realm, "log_level": LOG_LEVELS.get(log_level, 20),
                             "rights": rights_list, "menus": menus(identity, rights_list)}
    for key, action in VALUES.items():
        value[key] = rights.value(action, REGISTRY[WEBUI][action].default or "", target, scope=WEBUI)
    for key, action in SWITCHES.items():
        value[key] = rights.switch(action, target, scope=WEBUI)
    value["token_rollover"] = sorted(rights.words("token_rollover", target, scope=WEBUI))
    value["show_node"] = node if rights.switch("show_node", target, scope=WEBUI) else ""
    for key, (action, url) in APP_LINKS.items():
        value[key] = segno.make(url).png_data_uri(scale=3) if rights.switch(action, target, scope=WEBUI) else None
    custom = rights.value("show_custom_authenticator", None, target, scope=WEBUI)
    value["qr_image_custom"] = segno.make(custom).png_data_uri(scale=3) if custom else None
    value["indexedsecret_force_attribute"] = ""  # the admin/user action is not supported yet
    value["subscription_status"] = value["subscription_status_push"] = 0
    return value


def _before_login(policies: PolicySet, action: str, client: str, node: str, default: str) -> str:
    """A webui value read before anyone is logged in: matched by client and node only."""
    found, _ = policies.get_value(PolicyQuery(scope=WEBUI, action=action, client=client, node=node), default)
    return str(found or default)


def login_offer(session: Session, store: PolicyStore, client: str, node: str) -> tuple[list[str], str]:
    """The realms the login page offers (``realm_dropdown``) and its ``login_text``, for an
    anonymous caller from ``client``."""
    policies = store.snapshot(session)
    return (_before_login(policies, "realm_dropdown", client, node, "").split(),
            _before_login(policies, "login_text", client, node, "Please sign in"))


def page_frame(policies: PolicySet, client: str, node: str) -> dict[str, str]:
    """What frames every page, the login page too: the templates that replace the baseline
    (``custom_baseline``) and the menu (``custom_menu``), and the ``privacy_statement_link``
    in the baseline. As in privacyIDEA they are read before login: by client and node only."""
    return {action: _before_login(policies, action, client, node, "")
            for action in ("custom_baseline", "custom_menu", "privacy_statement_link")}
