"""The ``[web]`` section: the HTTP listeners, API sessions, login throttling, the failure
floor, response signing, the trusted remote-user proxies and the UI customization directory.

``SiteConfig`` is what the site reads of the composition root's configuration: its own
section, and the ``[radius]`` section that the RADIUS page of the web UI shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from tesserad.core.config import ip_networks, non_empty_strings, not_negative, positive, setting


def _header_name(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", value) else "must be an HTTP header name"


@dataclass(frozen=True)
class WebSection:
    listen: list[str] = setting(
        ["tcp:8080:interface=127.0.0.1"],
        "Twisted endpoint strings for the REST API and web UI (tcp:, ssl:, unix:, systemd:).",
        check=non_empty_strings)
    superuser_realms: list[str] = setting(
        [], "Realms whose users log in to the API as administrators (privacyIDEA's SUPERUSER_REALM).",
        check=non_empty_strings)
    session_lifetime: int = setting(
        3600, "Seconds an API token from POST /auth stays valid.", check=positive)
    login_failures_per_user: int = setting(
        10, "Failed POST /auth logins of one user name within login_failure_window after which "
            "further attempts are refused until the window has passed.", check=positive)
    login_failures_per_client: int = setting(
        50, "Failed POST /auth logins from one client address within login_failure_window after "
            "which that address is refused.", check=positive)
    login_failure_window: int = setting(
        300, "Seconds over which failed POST /auth logins are counted.", check=positive)
    failure_floor_ms: int = setting(
        500, "Milliseconds after the start of a POST /auth or /validate/* request before a failure "
             "is answered, so that response times do not tell unknown users from wrong passwords "
             "or OTPs; must exceed the slowest failure (argon2, user store); 0 turns it off.",
        check=not_negative)
    sign_responses: bool = setting(
        True, "Add a signature (Ed25519, key response-signing.pem) to every JSON answer of the API "
              "(privacyIDEA's response signing; PI_NO_RESPONSE_SIGN turns it off there).")
    remote_user_proxies: list[str] = setting(
        [], "IP addresses or CIDR networks of the reverse proxies whose remote_user_header names "
            "an already authenticated user (webui policy remote_user); the header from any other "
            "peer is ignored. Empty: no remote user is ever believed.", check=ip_networks)
    remote_user_header: str = setting(
        "X-Remote-User", "The HTTP header in which the trusted proxies pass the user they "
                         "authenticated (privacyIDEA's REMOTE_USER).", check=_header_name)
    customization_dir: str = setting(
        "", "Directory of the HTML templates that the webui policies custom_baseline and "
            "custom_menu name (privacyIDEA's PI_CUSTOMIZATION). Empty: those policies show the "
            "built-in baseline and menu.")


class SiteConfig(Protocol):
    """What the site reads of the composition root's configuration."""

    @property
    def web(self) -> WebSection: ...
    # Shown on the RADIUS page; its type belongs to the RADIUS edge, which the site does not import.
    @property
    def radius(self) -> Any: ...
