"""Whom the HTTP edge believes when a reverse proxy names an authenticated user.

A proxy that authenticated the user itself (Kerberos, client certificates, SSO) names them in
``web.remote_user_header`` (privacyIDEA's REMOTE_USER). The header is believed only from the
TCP peers in ``web.remote_user_proxies``; whether the name may log in is the webui policy
``remote_user`` (core/login.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from tesserad.admin_web.config import WebSection


def trusted_remote_user(peer: str, headers: Mapping[str, str], web: WebSection) -> str | None:
    """The user named in ``web.remote_user_header`` when the TCP peer (never an address
    from X-Forwarded-For) is one of ``web.remote_user_proxies``; None otherwise."""
    if not web.remote_user_proxies:
        return None
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return None
    if not any(address in ipaddress.ip_network(net, strict=False) for net in web.remote_user_proxies):
        return None
    return headers.get(web.remote_user_header.lower(), "").strip() or None
