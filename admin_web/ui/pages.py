"""The pages of the web UI: who may open each, and under which menu of ``POST /auth`` it hangs."""

from __future__ import annotations

from dataclasses import dataclass

from tesserad.admin_web.rest import ADMIN_ONLY, ADMIN_OR_USER


@dataclass(frozen=True)
class Page:
    """One page: ``/ui/<name>`` renders ``templates/<name>.html`` and loads ``static/js/<name>.js``.
    ``menu``: the menu the caller's rights must open (None: every caller of ``roles``)."""

    name: str
    title: str
    roles: frozenset[str]
    menu: str | None


PAGES: dict[str, Page] = {page.name: page for page in (
    Page("dashboard", "Dashboard", ADMIN_ONLY, None),
    Page("tokens", "Tokens", ADMIN_OR_USER, "tokens"),
    Page("token", "Token", ADMIN_OR_USER, "tokens"),
    Page("enroll", "Enroll a token", ADMIN_OR_USER, "tokens"),
    Page("users", "Users", ADMIN_ONLY, "users"),
    Page("realms", "Resolvers and realms", ADMIN_ONLY, "config"),
    Page("policies", "Policies", ADMIN_ONLY, "config"),
    Page("system", "System configuration", ADMIN_ONLY, "config"),
    Page("radius", "RADIUS clients", ADMIN_ONLY, "config"),
    Page("smtp", "SMTP servers", ADMIN_ONLY, "config"),
    Page("smsgateway", "SMS gateways", ADMIN_ONLY, "config"),
    Page("audit", "Audit log", ADMIN_OR_USER, "audit"),
)}
# The navigation, in order (the token detail page is reached from the list).
NAVIGATION = ("dashboard", "tokens", "enroll", "users", "realms", "policies", "system", "radius", "smtp", "smsgateway",
              "audit")


def home(role: str) -> str:
    """Where a caller lands after login."""
    return "/ui/dashboard" if role == "admin" else "/ui/tokens"
