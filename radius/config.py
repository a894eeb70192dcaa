"""The ``[radius]`` section: listen addresses, the NAS clients with their secrets, reply
attribute rules and extra dictionaries."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Protocol

from tesserad.core.config import SECRET_MASK, ip_network, non_empty_strings, setting


def _udp_addresses(values: list[str]) -> str | None:
    for value in values:
        try:
            parse_host_port(value)
        except ValueError as exc:
            return str(exc)
    return None


def parse_host_port(value: str) -> tuple[str, int]:
    """Split ``127.0.0.1:1812`` or ``[::1]:1812`` into a literal IP address and a port."""
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{value!r} is not of the form host:port (IPv6 as [::1]:1812)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{value!r}: {host!r} is not an IP address") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r}: port must be a number from 1 to 65535")
    return str(address), int(port)


def _mask_secret(value: str) -> str:
    return SECRET_MASK if value else ""


@dataclass(frozen=True)
class RadiusReplyConfig:
    """One reply attribute rule (``[[radius.reply]]`` or ``[[radius.clients.reply]]``);
    checked against the RADIUS dictionaries when the clients are loaded."""

    attribute: str = setting("", "Required: the attribute's dictionary name, e.g. Class, Filter-Id, "
                                 "Fortinet-Group-Name, Cisco-AVPair.")
    value: str = setting("", "Without source: the value sent. With source: a template, {0} the source "
                             "value (or the regex match), {1}.. its groups; default {0}.", literal=True)
    source: str = setting("", "Where values come from: serial, type, user.<attribute> (needs the "
                              "add_user_in_response policy), realm, resolver (need add_resolver_in_response).")
    match: str = setting("", "A regular expression: only source values it matches (searched) give an "
                             "attribute.", literal=True)
    tag: int = setting(0, "RFC 2868 tag (0..31) of tagged attributes such as Tunnel-Private-Group-Id.")
    on: list[str] = setting(["accept"], "Replies that carry it: accept and/or challenge.")


@dataclass(frozen=True)
class RadiusClientConfig:
    """One NAS (a ``[[radius.clients]]`` table): where its requests come from and its secret."""

    name: str = setting("", "Required, unique: names the NAS in logs and the audit trail, and binds "
                            "the State of its challenges to it.")
    address: str = setting("", "Required: source address of its requests, an IP address or a CIDR "
                               "network (IPv4 or IPv6); the longest matching prefix wins.",
                           check=ip_network)
    secret: str = setting("", "The shared secret (or use secret_file).", mask=_mask_secret, literal=True)
    secret_file: str = setting("", "A file whose first line is the shared secret, read at start and on "
                                   "SIGHUP; it must not be readable by others.")
    realm: str = setting("", "Realm in which the users of this NAS are looked up (as the privacyIDEA "
                             "plugin's REALM); empty: user@realm and the default realm decide.")
    require_message_authenticator: bool = setting(
        True, "Drop Access-Requests without a Message-Authenticator (BlastRADIUS, CVE-2024-3596); "
              "turn off only for a NAS that cannot send one.")
    limit_proxy_state: bool = setting(
        True, "When a Message-Authenticator is not required: still drop Access-Requests that carry "
              "Proxy-State without one (BlastRADIUS).")
    reply: list[RadiusReplyConfig] = setting(
        [], "Reply attributes for this NAS, as [[radius.clients.reply]] tables (keys as radius.reply).")
    global_reply: bool = setting(True, "Also send the [[radius.reply]] attributes (before its own).")


def _radius_clients(clients: list[RadiusClientConfig]) -> str | None:
    names: set[str] = set()
    networks: dict[Any, str] = {}
    for index, client in enumerate(clients):
        where = f"[{index}]"
        if not client.name.strip():
            return f"{where}: name is required"
        if client.name in names:
            return f"{where}: the name {client.name!r} is used twice"
        names.add(client.name)
        if not client.address:
            return f"{where} ({client.name}): address is required"
        if bool(client.secret) == bool(client.secret_file):
            return f"{where} ({client.name}): set either secret or secret_file"
        network = ipaddress.ip_network(client.address)
        if network in networks:
            return f"{where} ({client.name}): {network} is also the address of {networks[network]!r}"
        networks[network] = client.name
    return None


@dataclass(frozen=True)
class RadiusSection:
    auth_listen: list[str] = setting(
        ["127.0.0.1:1812"], "RADIUS authentication addresses, host:port ([::1]:1812 for IPv6); "
                            "an empty list turns it off.", check=_udp_addresses)
    acct_listen: list[str] = setting(
        ["127.0.0.1:1813"], "RADIUS accounting addresses; an empty list turns it off.",
        check=_udp_addresses)
    clients: list[RadiusClientConfig] = setting(
        [], "The NAS allowed to send requests, as [[radius.clients]] tables (keys below); requests "
            "from other addresses are dropped. Re-read on SIGHUP.", check=_radius_clients)
    reply: list[RadiusReplyConfig] = setting(
        [], "Reply attributes for every NAS, as [[radius.reply]] tables (keys below). Re-read on SIGHUP.")
    dictionaries: list[str] = setting(
        [], "Extra RADIUS dictionary files (FreeRADIUS format) for attributes of other vendors.",
        check=non_empty_strings)


class RadiusConfig(Protocol):
    """What the RADIUS edge reads of the composition root's configuration."""

    @property
    def radius(self) -> RadiusSection: ...
    @property
    def source(self) -> str: ...
