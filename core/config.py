"""The configuration model: TOML in, one validated, immutable configuration out.

Every setting is a dataclass field with a default and a one-line ``doc``; the schema
*is* the documentation (``tesserad-manage config check`` prints it back), so a key
cannot exist without a default and an explanation. Unknown keys, wrong types and bad
values are refused with the file, the dotted key and the reason, before anything is
created on disk.

This module holds the machinery and the core's own sections (server, database, log,
security). Each edge declares its section next to its code (``admin_web/config.py``,
``radius/config.py``, ``pam_module/config.py``); the composition root (``daemon/config.py``)
puts all sections into one dataclass, which the functions here parse, resolve and document.
The core reads the configuration only through ``CoreConfig``.

Strings may use ``{data_dir}``, which is replaced by the resolved data directory; the
defaults of the database URL, the PAM socket and the key directory use it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from tesserad.core.errors import ConfigError

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


def one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}, not {value!r}"
    return check


def not_negative(value: int) -> str | None:
    return None if value >= 0 else f"must be 0 or more, not {value}"


def positive(value: int) -> str | None:
    return None if value > 0 else f"must be a positive integer, not {value}"


def non_empty_strings(values: list[str]) -> str | None:
    return "must not contain empty strings" if any(not v.strip() for v in values) else None


def ip_network(value: str) -> str | None:
    try:
        ipaddress.ip_network(value)
    except ValueError as exc:
        return f"must be an IP address or a CIDR network: {exc}"
    return None


def ip_networks(values: list[str]) -> str | None:
    return next((f"{value!r} {problem}" for value in values if (problem := ip_network(value))), None)


def mask_url_password(url: str) -> str:
    """Hide the password of a database URL (``scheme://user:secret@host``)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:{SECRET_MASK}@{location}"


@dataclass(frozen=True)
class ServerSection:
    data_dir: str = setting(
        "", "Keys, the SQLite database and runtime state. Default: $XDG_DATA_HOME/tesserad "
        "when XDG_DATA_HOME is set, else ./var relative to the working directory.")
    workers: int = setting(
        1, "Processes that serve requests side by side on the same ports; 0 means one per CPU "
           "core. Python runs one thread at a time per process, so more than one worker is how "
           "tesserad uses several cores.", check=not_negative)
    threads: int = setting(
        16, "Size of each worker's thread pool that runs SQL, hashing and user-store calls off "
            "the reactor thread.", check=positive)
    shutdown_grace: int = setting(
        8, "Seconds that in-flight requests get to finish on SIGTERM before the daemon exits.",
        check=positive)
    reactor_lag_warn_ms: int = setting(
        100, "Log a warning when the reactor thread, which every HTTP, RADIUS and PAM answer "
             "waits for, was busy longer than this many milliseconds at a stretch; 0 turns the "
             "warning off. GET /healthz shows the longest such lag of the last minute.",
        check=not_negative)


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
        check=one_of("normal", "full"))


@dataclass(frozen=True)
class LogSection:
    level: str = setting("info", "Lowest level written: " + ", ".join(LOG_LEVELS) + ".",
                         check=one_of(*LOG_LEVELS))
    format: str = setting("text", "text (one line per event) or json (one JSON object per line).",
                          check=one_of(*LOG_FORMATS))


@dataclass(frozen=True)
class SecuritySection:
    key_dir: str = setting(
        "{data_dir}/keys", "Directory of the encryption key file and the audit signing keys "
                           "(created 0700 on first start; files 0600).")
    argon2_time_cost: int = setting(3, "argon2id iterations for PINs and admin passwords.",
                                    check=positive)
    argon2_memory_cost: int = setting(65536, "argon2id memory in KiB.", check=positive)
    argon2_parallelism: int = setting(4, "argon2id lanes.", check=positive)


@dataclass(frozen=True)
class OutboxSection:
    max_attempts: int = setting(5, "Attempts to deliver an email or SMS before it is given up.", check=positive)
    retry_delays: list[int] = setting(
        [5, 30, 120, 600], "Seconds before the second, third, ... attempt; the last one repeats.",
        check=lambda values: None if values and all(v >= 0 for v in values)
        else "give at least one delay, none negative")
    lease_seconds: int = setting(
        120, "How long a sender holds a message it claimed; only a message whose sender died "
             "within it is claimed again, so keep it above every gateway timeout.", check=positive)
    poll_interval_ms: int = setting(500, "How often an idle sender looks for new messages.", check=positive)
    batch: int = setting(100, "Messages one process sends at once.", check=positive)
    concurrency: int = setting(50, "Messages one process sends at once through one SMTP server or SMS gateway.",
                               check=positive)
    keep_days: int = setting(7, "Days a sent or given-up message stays in the outbox table (its text is wiped "
                                "at once; the audit keeps the outcome).", check=positive)
    ca_file: str = setting("", "PEM bundle of the CAs that SMTP servers' (STARTTLS or implicit TLS) and SMS "
                               "gateways' certificates must chain to; empty: the system trust store.")


class CoreConfig(Protocol):
    """What the core reads of the configuration: its own sections, where the configuration
    came from, and the resolved directories. The composition root's dataclass of all
    sections provides it."""

    # A dataclass: ``resolve`` replaces sections in it.
    __dataclass_fields__: typing.ClassVar[dict[str, dataclasses.Field[Any]]]

    @property
    def server(self) -> ServerSection: ...
    @property
    def database(self) -> DatabaseSection: ...
    @property
    def log(self) -> LogSection: ...
    @property
    def security(self) -> SecuritySection: ...
    @property
    def outbox(self) -> OutboxSection: ...
    @property
    def source(self) -> str: ...
    @property
    def data_dir(self) -> Path: ...
    @property
    def key_dir(self) -> Path: ...


ConfigT = TypeVar("ConfigT", bound=CoreConfig)


def sections(root: Callable[..., CoreConfig]) -> dict[str, type]:
    """The sections of a configuration dataclass (every field but ``source``), in order."""
    return {name: hint for name, hint in typing.get_type_hints(root).items() if name != "source"}


def default_data_dir(env: typing.Mapping[str, str], cwd: Path) -> Path:
    """Where the embedded default keeps its state (documented in the README)."""
    xdg = env.get("XDG_DATA_HOME")
    return Path(xdg) / "tesserad" if xdg else cwd / "var"


def build(root: Callable[..., ConfigT], path: Path | None, *, env: typing.Mapping[str, str], cwd: Path) -> ConfigT:
    """Read and validate the file at ``path`` (None: the embedded default) into ``root``,
    the dataclass of all sections; raise ConfigError on any problem."""
    if path is None:
        return resolve(root(), env=env, cwd=cwd)
    return resolve(parse(root, read_file(path), str(path)), env=env, cwd=cwd)


def read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {getattr(exc, 'strerror', None) or exc}",
                          path=str(path)) from None


def parse(root: Callable[..., ConfigT], text: str, source: str) -> ConfigT:
    """Validate TOML text against the schema ``root`` (no defaults resolved yet)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=source) from None
    known = sections(root)
    values = {}
    for name, value in data.items():
        if name not in known:
            raise ConfigError(f"unknown section (known: {', '.join(known)})",
                              path=source, key=name)
        values[name] = _build(known[name], value, name, source)
    return root(**values, source=source)


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


def resolve(config: ConfigT, *, env: typing.Mapping[str, str], cwd: Path) -> ConfigT:
    """Fill in derived defaults: an absolute data_dir, and ``{data_dir}`` in strings."""
    raw = config.server.data_dir or str(default_data_dir(env, cwd))
    data_dir = Path(raw).expanduser()
    if not data_dir.is_absolute():
        data_dir = cwd / data_dir
    server = dataclasses.replace(config.server, data_dir=str(data_dir))
    config = dataclasses.replace(config, server=server)
    substituted: ConfigT = _substitute(config, {"data_dir": str(data_dir)}, config.source)
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


def effective(config: CoreConfig) -> dict[str, Any]:
    """The resolved configuration as plain TOML data with secrets masked, for display."""
    return {name: _plain(getattr(config, name)) for name in sections(type(config))}


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


def documentation(root: Callable[..., CoreConfig]) -> list[tuple[str, Any, str]]:
    """(dotted key, default, doc) for every setting of ``root``: the reference the README is
    written from. The keys of a list of tables are listed as ``section.list[].key``."""
    return [row for name, cls in sections(root).items() for row in _documentation(name, cls)]


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
