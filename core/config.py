"""The configuration model: TOML in, one validated, immutable ``Config`` out.

Every setting is a dataclass field with a default and a one-line ``doc``; the schema
*is* the documentation (``tesserad-manage config check`` prints it back), so a key
cannot exist without a default and an explanation. Unknown keys, wrong types and bad
values are refused with the file, the dotted key and the reason, before anything is
created on disk.

Strings may use ``{data_dir}``, which is replaced by the resolved data directory; the
defaults of the database URL, the PAM socket and the key directory use it.
"""

from __future__ import annotations

import dataclasses
import grp
import ipaddress
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tesserad.core.errors import ConfigError

SYSTEM_CONFIG_PATH = Path("/etc/tesserad/tesserad.toml")
CONFIG_ENV = "TESSERAD_CONFIG"
SECRET_MASK = "********"
LOG_LEVELS = ("debug", "info", "warn", "error", "critical")
LOG_FORMATS = ("text", "json")


def setting(default: Any, doc: str, *, check: Callable[[Any], str | None] | None = None,
            mask: Callable[[Any], Any] | None = None, literal: bool = False) -> Any:
    """Declare a config key: its default, its documentation, an optional value check
    (returns a reason when the value is bad), an optional masking for display, and whether
    the value is taken literally (no ``{data_dir}``: a secret may contain braces)."""
    meta = {"doc": doc, "check": check, "mask": mask, "literal": literal}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}, not {value!r}"
    return check


def _not_negative(value: int) -> str | None:
    return None if value >= 0 else f"must be 0 or more, not {value}"


def _positive(value: int) -> str | None:
    return None if value > 0 else f"must be a positive integer, not {value}"


def _udp_addresses(values: list[str]) -> str | None:
    for value in values:
        try:
            parse_host_port(value)
        except ValueError as exc:
            return str(exc)
    return None


def _non_empty_strings(values: list[str]) -> str | None:
    return "must not contain empty strings" if any(not v.strip() for v in values) else None


def _ip_networks(values: list[str]) -> str | None:
    return next((f"{value!r} {problem}" for value in values if (problem := _ip_network(value))), None)


def _header_name(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", value) else "must be an HTTP header name"


def mask_url_password(url: str) -> str:
    """Hide the password of a database URL (``scheme://user:secret@host``)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:{SECRET_MASK}@{location}"


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


@dataclass(frozen=True)
class ServerSection:
    data_dir: str = setting(
        "", "Keys, the SQLite database and runtime state. Default: $XDG_DATA_HOME/tesserad "
        "when XDG_DATA_HOME is set, else ./var relative to the working directory.")
    workers: int = setting(
        1, "Processes that serve requests side by side on the same ports; 0 means one per CPU "
           "core. Python runs one thread at a time per process, so more than one worker is how "
           "tesserad uses several cores.", check=_not_negative)
    threads: int = setting(
        16, "Size of each worker's thread pool that runs SQL, hashing and user-store calls off "
            "the reactor thread.", check=_positive)
    shutdown_grace: int = setting(
        8, "Seconds that in-flight requests get to finish on SIGTERM before the daemon exits.",
        check=_positive)
    reactor_lag_warn_ms: int = setting(
        100, "Log a warning when the reactor thread, which every HTTP, RADIUS and PAM answer "
             "waits for, was busy longer than this many milliseconds at a stretch; 0 turns the "
             "warning off. GET /healthz shows the longest such lag of the last minute.",
        check=_not_negative)


@dataclass(frozen=True)
class DatabaseSection:
    url: str = setting(
        "sqlite:///{data_dir}/tesserad.db",
        "Any SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db or mysql+pymysql://...",
        mask=mask_url_password)
    auto_upgrade: bool = setting(
        True, "Apply pending schema migrations at start. With false, an outdated schema "
              "stops the start and `tesserad-manage db upgrade` must be run.")
    sqlite_synchronous: str = setting(
        "normal", "SQLite only: normal (WAL; a power loss may lose the last transactions) or "
                  "full (every commit synced to disk; about half the login rate).",
        check=_one_of("normal", "full"))


@dataclass(frozen=True)
class WebSection:
    listen: list[str] = setting(
        ["tcp:8080:interface=127.0.0.1"],
        "Twisted endpoint strings for the REST API and web UI (tcp:, ssl:, unix:, systemd:).",
        check=_non_empty_strings)
    superuser_realms: list[str] = setting(
        [], "Realms whose users log in to the API as administrators (privacyIDEA's SUPERUSER_REALM).",
        check=_non_empty_strings)
    session_lifetime: int = setting(
        3600, "Seconds an API token from POST /auth stays valid.", check=_positive)
    login_failures_per_user: int = setting(
        10, "Failed POST /auth logins of one user name within login_failure_window after which "
            "further attempts are refused until the window has passed.", check=_positive)
    login_failures_per_client: int = setting(
        50, "Failed POST /auth logins from one client address within login_failure_window after "
            "which that address is refused.", check=_positive)
    login_failure_window: int = setting(
        300, "Seconds over which failed POST /auth logins are counted.", check=_positive)
    failure_floor_ms: int = setting(
        500, "Milliseconds after the start of a POST /auth or /validate/* request before a failure "
             "is answered, so that response times do not tell unknown users from wrong passwords "
             "or OTPs; must exceed the slowest failure (argon2, user store); 0 turns it off.",
        check=_not_negative)
    sign_responses: bool = setting(
        True, "Add a signature (Ed25519, key response-signing.pem) to every JSON answer of the API "
              "(privacyIDEA's response signing; PI_NO_RESPONSE_SIGN turns it off there).")
    remote_user_proxies: list[str] = setting(
        [], "IP addresses or CIDR networks of the reverse proxies whose remote_user_header names "
            "an already authenticated user (webui policy remote_user); the header from any other "
            "peer is ignored. Empty: no remote user is ever believed.", check=_ip_networks)
    remote_user_header: str = setting(
        "X-Remote-User", "The HTTP header in which the trusted proxies pass the user they "
                         "authenticated (privacyIDEA's REMOTE_USER).", check=_header_name)
    customization_dir: str = setting(
        "", "Directory of the HTML templates that the webui policies custom_baseline and "
            "custom_menu name (privacyIDEA's PI_CUSTOMIZATION). Empty: those policies show the "
            "built-in baseline and menu.")


def _mask_secret(value: str) -> str:
    return SECRET_MASK if value else ""


def _ip_network(value: str) -> str | None:
    try:
        ipaddress.ip_network(value)
    except ValueError as exc:
        return f"must be an IP address or a CIDR network: {exc}"
    return None


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
                           check=_ip_network)
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
        check=_non_empty_strings)


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
        check=_non_empty_strings)
    allowed_group: str = setting(
        "", "Besides root, processes with this group (effective, or their user listed as a member at "
            "start) may use the PAM socket, e.g. a screen locker; the socket file gets this group. "
            "Empty: root only.", check=_existing_group)
    max_connections: int = setting(
        64, "PAM connections served at once by each worker process; more are refused (the module "
            "answers PAM_AUTHINFO_UNAVAIL).", check=_positive)
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
            "take from its first byte to its last; then it is closed.", check=_positive)
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
        5, "Seconds an upstream request may take before the login uses the offline cache.", check=_positive)
    offline_dir: str = setting(
        "{data_dir}/offline", "Agent mode: the offline cache (one 0600 file per user and token).")
    offline_refill_threshold: int = setting(
        20, "Agent mode: after an offline login, refill from the upstream when fewer values are left.",
        check=_not_negative)


@dataclass(frozen=True)
class LogSection:
    level: str = setting("info", "Lowest level written: " + ", ".join(LOG_LEVELS) + ".",
                         check=_one_of(*LOG_LEVELS))
    format: str = setting("text", "text (one line per event) or json (one JSON object per line).",
                          check=_one_of(*LOG_FORMATS))


@dataclass(frozen=True)
class SecuritySection:
    key_dir: str = setting(
        "{data_dir}/keys", "Directory of the encryption key file and the audit signing keys "
                           "(created 0700 on first start; files 0600).")
    argon2_time_cost: int = setting(3, "argon2id iterations for PINs and admin passwords.",
                                    check=_positive)
    argon2_memory_cost: int = setting(65536, "argon2id memory in KiB.", check=_positive)
    argon2_parallelism: int = setting(4, "argon2id lanes.", check=_positive)


@dataclass(frozen=True)
class Config:
    """The whole, validated configuration; ``source`` says where it came from."""

    server: ServerSection = field(default_factory=ServerSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    web: WebSection = field(default_factory=WebSection)
    radius: RadiusSection = field(default_factory=RadiusSection)
    pam: PamSection = field(default_factory=PamSection)
    log: LogSection = field(default_factory=LogSection)
    security: SecuritySection = field(default_factory=SecuritySection)
    source: str = field(default="<embedded default>", compare=False)

    @property
    def data_dir(self) -> Path:
        return Path(self.server.data_dir)

    @property
    def key_dir(self) -> Path:
        return Path(self.security.key_dir)


SECTIONS: dict[str, type] = {name: hint for name, hint in typing.get_type_hints(Config).items()
                             if name != "source"}


def default_data_dir(env: typing.Mapping[str, str], cwd: Path) -> Path:
    """Where the embedded default keeps its state (documented in the README)."""
    xdg = env.get("XDG_DATA_HOME")
    return Path(xdg) / "tesserad" if xdg else cwd / "var"


def locate(cli_path: str | None, env: typing.Mapping[str, str]) -> Path | None:
    """The config file to read: --config, else $TESSERAD_CONFIG, else /etc/tesserad/tesserad.toml
    if it exists, else None for the embedded default."""
    if cli_path:
        return Path(cli_path)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return SYSTEM_CONFIG_PATH if SYSTEM_CONFIG_PATH.exists() else None


def load(cli_path: str | None = None, *, env: typing.Mapping[str, str] | None = None,
         cwd: Path | None = None) -> Config:
    """Find, read and validate the configuration; raise ConfigError on any problem."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    path = locate(cli_path, env)
    if path is None:
        return resolve(Config(), env=env, cwd=cwd)
    return resolve(parse(read_file(path), str(path)), env=env, cwd=cwd)


def read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {getattr(exc, 'strerror', None) or exc}",
                          path=str(path)) from None


def parse(text: str, source: str) -> Config:
    """Validate TOML text against the schema (no defaults resolved yet)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=source) from None
    sections = {}
    for name, value in data.items():
        if name not in SECTIONS:
            raise ConfigError(f"unknown section (known: {', '.join(SECTIONS)})",
                              path=source, key=name)
        sections[name] = _build(SECTIONS[name], value, name, source)
    return Config(**sections, source=source)


def _build(cls: type, data: Any, prefix: str, source: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError("must be a table", path=source, key=prefix)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}"
        if key not in fields:
            raise ConfigError(f"unknown key (known: {', '.join(fields)})", path=source, key=dotted)
        values[key] = _coerce(hints[key], value, dotted, source)
        check = fields[key].metadata.get("check")
        reason = check(values[key]) if check else None
        if reason:
            raise ConfigError(reason, path=source, key=dotted)
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str, source: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"expected a list, got {_toml_type(value)}", path=source, key=key)
        return [_coerce(item, v, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, key, source)
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    # bool is a subclass of int: check it exactly, both ways.
    if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"expected an integer, got {_toml_type(value)}", path=source, key=key)
    if hint is not int and not isinstance(value, hint):
        raise ConfigError(f"expected {_toml_name(hint)}, got {_toml_type(value)}",
                          path=source, key=key)
    return value


def _toml_name(hint: type) -> str:
    return {str: "a string", bool: "a boolean (true/false)", int: "an integer",
            float: "a number"}.get(hint, hint.__name__)


def _toml_type(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def resolve(config: Config, *, env: typing.Mapping[str, str], cwd: Path) -> Config:
    """Fill in derived defaults: an absolute data_dir, and ``{data_dir}`` in strings."""
    raw = config.server.data_dir or str(default_data_dir(env, cwd))
    data_dir = Path(raw).expanduser()
    if not data_dir.is_absolute():
        data_dir = cwd / data_dir
    server = dataclasses.replace(config.server, data_dir=str(data_dir))
    config = dataclasses.replace(config, server=server)
    substituted: Config = _substitute(config, {"data_dir": str(data_dir)}, config.source)
    return substituted


def _substitute(obj: Any, names: dict[str, str], source: str, prefix: str = "") -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for f in dataclasses.fields(obj):
            if f.name == "source" or f.metadata.get("literal"):
                continue
            key = f"{prefix}.{f.name}" if prefix else f.name
            changes[f.name] = _substitute(getattr(obj, f.name), names, source, key)
        return dataclasses.replace(obj, **changes)
    if isinstance(obj, list):
        return [_substitute(v, names, source, f"{prefix}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, str) and "{" in obj:
        try:
            return obj.format_map(names)
        except (KeyError, ValueError, IndexError) as exc:
            raise ConfigError(f"bad placeholder {exc} (only {{data_dir}} is known)",
                              path=source, key=prefix) from None
    return obj


def effective(config: Config) -> dict[str, Any]:
    """The resolved configuration as plain TOML data with secrets masked, for display."""
    return {name: _plain(getattr(config, name)) for name in SECTIONS}


def _plain(section: Any) -> Any:
    if not dataclasses.is_dataclass(section):
        return section
    out = {}
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        mask = f.metadata.get("mask")
        if isinstance(value, list):
            value = [_plain(v) for v in value]
        else:
            value = _plain(value)
        out[f.name] = mask(value) if mask else value
    return out


def documentation() -> list[tuple[str, Any, str]]:
    """(dotted key, default, doc) for every setting: the reference the README is written from.
    The keys of a list of tables are listed as ``section.list[].key``."""
    return [row for name, cls in SECTIONS.items() for row in _documentation(name, cls)]


def _documentation(prefix: str, cls: type) -> list[tuple[str, Any, str]]:
    rows = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        rows.append((f"{prefix}.{f.name}", default, f.metadata["doc"]))
        item = typing.get_args(hints[f.name])
        if typing.get_origin(hints[f.name]) is list and isinstance(item[0], type) and dataclasses.is_dataclass(item[0]):
            rows += _documentation(f"{prefix}.{f.name}[]", item[0])
    return rows
