"""The ``[pam]`` section: the listener that pam_tesserad.so connects to, its limits, and
agent mode (forwarding to a central server, with an offline cache)."""

from __future__ import annotations

import grp
from collections.abc import Callable
from dataclasses import dataclass

from tesserad.core.config import non_empty_strings, not_negative, positive, setting


def _existing_group(name: str) -> str | None:
    if not name:
        return None
    try:
        grp.getgrnam(name)
    except KeyError:
        return f"no group named {name!r} on this host"
    return None


def _https_url(value: str) -> str | None:
    if not value:
        return None
    scheme, sep, rest = value.partition("://")
    if scheme != "https" or not sep or not rest.split("/", 1)[0]:
        return f"must be an https:// URL with a host, not {value!r}"
    return None


def _frame_size(value: int) -> str | None:
    return None if 1024 <= value <= 65536 else f"must be from 1024 to 65536 bytes, not {value}"


def _percent(low: int, high: int) -> Callable[[int], str | None]:
    def check(value: int) -> str | None:
        return None if low <= value <= high else f"must be a percentage from {low} to {high}, not {value}"
    return check


@dataclass(frozen=True)
class PamSection:
    listen: list[str] = setting(
        ["unix:{data_dir}/pam.sock:mode=660"],
        "Endpoints of the PAM listener that pam_tesserad.so connects to.",
        check=non_empty_strings)
    allowed_group: str = setting(
        "", "Besides root, processes with this group (effective, or their user listed as a member at "
            "start) may use the PAM socket, e.g. a screen locker; the socket file gets this group. "
            "Empty: root only.", check=_existing_group)
    max_connections: int = setting(
        64, "PAM connections served at once by each worker process; more are refused (the module "
            "answers PAM_AUTHINFO_UNAVAIL).", check=positive)
    # Shares, not counts: they stay consistent with any max_connections (listener.Limits turns them
    # into counts per worker process).
    uid_share_percent: int = setting(
        25, "Percent of pam.max_connections (at least one) that one user other than root may hold at once; "
            "more from that user are refused.", check=_percent(1, 100))
    root_reserve_percent: int = setting(
        25, "Percent of pam.max_connections (at least one, with max_connections 2 or more) kept for root: "
            "other users together never hold more than the rest, so sshd and login always get a connection.",
        check=_percent(1, 99))
    idle_timeout: int = setting(
        10, "Seconds a PAM connection may stay silent between requests, and seconds a request frame may "
            "take from its first byte to its last; then it is closed.", check=positive)
    max_frame: int = setting(
        8192, "Largest PAM request frame in bytes (1024 to 65536); larger ones are refused.",
        check=_frame_size)
    # Agent mode (pam_module/agent.py): forward to a central server, keep an offline cache.
    upstream: str = setting(
        "", "Agent mode: https:// URL of a central tesserad or privacyIDEA server that PAM logins are "
            "forwarded to (as /validate/check); empty: this daemon decides itself.", check=_https_url)
    upstream_ca_file: str = setting(
        "", "PEM bundle of the CAs that sign the upstream's certificate; empty: the system's trust store. "
            "The certificate must name the URL's host (service-identity).")
    upstream_timeout: int = setting(
        5, "Seconds an upstream request may take before the login uses the offline cache.", check=positive)
    offline_dir: str = setting(
        "{data_dir}/offline", "Agent mode: the offline cache (one 0600 file per user and token).")
    offline_refill_threshold: int = setting(
        20, "Agent mode: after an offline login, refill from the upstream when fewer values are left.",
        check=not_negative)
