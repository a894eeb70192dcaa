"""System-wide settings (the spec's ``/system/setConfig`` keys) with their defaults.

Stored as strings in the ``config`` table under privacyIDEA's key names, so that an
exported privacyIDEA configuration means the same here; read as one typed, cached
``SystemSettings`` object. A setting of type ``password`` is stored only as
security-module ciphertext bound to ``config:<key>``, and listings show it as
``__CENSORED__``; type ``public`` marks the settings users may read.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tesserad.core import proxies
from tesserad.core.clock import Clock
from tesserad.core.errors import DecryptionError, TesseraError
from tesserad.core.policy.actions import TOKEN_TYPES
from tesserad.core.security.base import SecurityModule
from tesserad.core.stamps import StampedCache, bump
from tesserad.core.store.models import Config as ConfigRow

STAMP = "config"
CENSORED = "__CENSORED__"
# The types ``setConfig`` accepts (``<key>.type``); "" and "string" are plain text.
TYPES = ("", "string", "text", "int", "bool", "password", "public")
# The keys ``/system/setDefault`` sets.
TOKEN_DEFAULTS = ("DefaultMaxFailCount", "DefaultSyncWindow", "DefaultCountWindow", "DefaultOtpLen",
                  "DefaultResetFailCount", "DefaultChallengeValidityTime")


class SystemConfigError(TesseraError):
    """An unknown system setting or a value of the wrong type."""


@dataclass(frozen=True)
class SystemSettings:
    """Typed view of the system settings; field names are the stored keys."""

    PrependPin: bool = True
    splitAtSign: bool = True
    IncFailCountOnFalsePin: bool = True
    DefaultMaxFailCount: int = 10
    DefaultCountWindow: int = 10
    DefaultSyncWindow: int = 1000
    DefaultOtpLen: int = 6
    DefaultChallengeValidityTime: int = 120
    # Minutes after which a token locked by its fail counter may be unlocked by a correct
    # authentication; 0 keeps it locked until an admin resets it.
    failcounter_clear_timeout: int = 0
    AutoResync: bool = False
    AutoResyncTimeout: int = 300
    no_auth_counter: bool = False
    SerialLength: int = 8
    ReturnSamlAttributes: bool = True
    ReturnSamlAttributesOnFail: bool = False
    # Set by privacyIDEA's setDefault and accepted so its exports import; the engine
    # resets the fail counter on every success, as privacyIDEA does by default.
    DefaultResetFailCount: bool = True
    # Trusted proxies and the clients they may speak for (core/proxies.py).
    OverrideAuthorizationClient: str = ""

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


FIELDS = {f.name: f for f in dataclasses.fields(SystemSettings)}
# Type-specific keys (e.g. ``totp.timeStep``, ``hotp.hashlib``) are free-form strings read
# by the token classes; they are kept in ``extra``.
EXTRA_PREFIXES = ("hotp.", "totp.", "pw.", "registration.", "paper", "tan", "motp.", "yubikey.",
                  "daypassword.", "indexedsecret.", "question.", "email.", "sms.", "push.", "webauthn.",
                  "u2f.", "tiqr.", "remote.", "radius.", "yubico.", "certificate.", "sshkey.", "4eyes.")


# ``<Type>ChallengeValidityTime`` (e.g. ``HotpChallengeValidityTime``): seconds a challenge of
# that token type stays answerable, instead of DefaultChallengeValidityTime.
VALIDITY_SUFFIX = "ChallengeValidityTime"
VALIDITY_KEYS = frozenset(t.capitalize() + VALIDITY_SUFFIX for t in TOKEN_TYPES)


def challenge_validity(settings: SystemSettings, extra: Mapping[str, str], token_type: str) -> int:
    """Seconds a challenge of ``token_type`` stays answerable (a stored value that is not a
    positive number falls back to the default, as a broken setting must not stop logins)."""
    raw = extra.get(token_type.capitalize() + VALIDITY_SUFFIX, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else settings.DefaultChallengeValidityTime


def _parse(key: str, raw: str) -> Any:
    value = _check(key, FIELDS[key].type, raw)
    if key == "OverrideAuthorizationClient":
        try:
            proxies.parse_rules(raw)
        except ValueError as exc:
            raise SystemConfigError(f"{key}: {exc}") from None
    return value


def _check(key: str, kind: Any, raw: str) -> Any:
    """``raw`` read as ``kind`` (bool, int or text); SystemConfigError naming ``key`` if it is not."""
    if kind in ("bool", bool):
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise SystemConfigError(f"{key}: expected a boolean, got {raw!r}")
    if kind in ("int", int):
        try:
            return int(raw)
        except ValueError:
            raise SystemConfigError(f"{key}: expected an integer, got {raw!r}") from None
    return raw


@dataclass(frozen=True)
class Snapshot:
    settings: SystemSettings
    extra: dict[str, str]
    # Stored key -> (raw value, type, description); secrets still encrypted.
    rows: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)


def _load(session: Session) -> Snapshot:
    values: dict[str, Any] = {}
    extra: dict[str, str] = {}
    rows: dict[str, tuple[str, str, str]] = {}
    for row in session.scalars(select(ConfigRow)):
        rows[row.key] = (row.value, row.type, row.description)
        if row.key in FIELDS:
            try:
                values[row.key] = _parse(row.key, row.value)
            except SystemConfigError:
                continue  # a broken stored value falls back to the default rather than stop logins
        else:
            extra[row.key] = row.value
    return Snapshot(SystemSettings(**values), extra, rows)


class SystemConfig:
    """Reads and writes the settings; one instance per process. ``security`` encrypts
    settings of type ``password`` (without it, such settings are refused)."""

    def __init__(self, clock: Clock, security: SecurityModule | None = None):
        self._clock = clock
        self._security = security
        self._cache: StampedCache[Snapshot] = StampedCache(STAMP, _load, clock)

    def settings(self, session: Session) -> SystemSettings:
        return self._cache.get(session).settings

    def snapshot(self, session: Session) -> Snapshot:
        """Settings and type-specific keys together, as of one moment."""
        return self._cache.get(session)

    def extra(self, session: Session, key: str, default: str | None = None) -> str | None:
        return self._cache.get(session).extra.get(key, default)

    def set(self, session: Session, key: str, value: Any, *, type: str = "", description: str | None = None) -> str:
        """Store one setting; ``"insert"`` or ``"update"`` as privacyIDEA answers. A known
        setting must parse as its type; other keys must belong to a token type."""
        raw = str(value).lower() if isinstance(value, bool) else str(value)
        if type not in TYPES:
            raise SystemConfigError(f"{key}.type: expected one of {', '.join(t for t in TYPES if t)}, got {type!r}")
        if key in FIELDS:
            if type == "password":
                raise SystemConfigError(f"{key} is a {FIELDS[key].type} setting and cannot be a password")
            _parse(key, raw)
        elif key in VALIDITY_KEYS:
            if not raw.strip().isdigit() or int(raw) <= 0:
                raise SystemConfigError(f"{key}: expected a positive number of seconds, got {raw!r}")
        elif not key.startswith(EXTRA_PREFIXES):
            raise SystemConfigError(f"unknown system setting {key!r}")
        elif type in ("int", "bool"):
            _check(key, type, raw)
        if type == "password":
            raw = self._seal(key, raw)
        row = session.get(ConfigRow, key)
        if row is None:
            session.add(ConfigRow(key=key, value=raw, type=type, description=description or ""))
        else:
            row.value, row.type = raw, type
            if description is not None:
                row.description = description
        self._changed(session)
        return "insert" if row is None else "update"

    def delete(self, session: Session, key: str) -> bool:
        """Remove a stored setting (a known one falls back to its default); whether it existed."""
        deleted = session.execute(delete(ConfigRow).where(ConfigRow.key == key)).rowcount  # type: ignore[attr-defined]
        self._changed(session)
        return bool(deleted)

    def _changed(self, session: Session) -> None:
        bump(session, STAMP, self._clock)
        self._cache.invalidate()

    # ---- listing and secrets ---------------------------------------------------------------

    def listing(self, session: Session, *, public_only: bool = False) -> dict[str, str]:
        """Like ``GET /system/``: every known setting (stored or default) and every stored
        key as text, secrets as ``__CENSORED__``; ``public_only`` for users: only ``public``."""
        rows = self._cache.get(session).rows
        if public_only:
            return {key: value for key, (value, kind, _) in sorted(rows.items()) if kind == "public"}
        result = {name: str(f.default) for name, f in FIELDS.items()}
        for key, (value, kind, _) in rows.items():
            result[key] = CENSORED if kind == "password" else value
        return dict(sorted(result.items()))

    def descriptions(self, session: Session) -> dict[str, tuple[str, str]]:
        """Stored key -> (type, description), for the system documentation."""
        return {key: (kind, text) for key, (_, kind, text) in sorted(self._cache.get(session).rows.items())}

    def secret(self, session: Session, key: str) -> str | None:
        """The clear text of a ``password`` setting (None when not stored)."""
        stored = self._cache.get(session).rows.get(key)
        if stored is None:
            return None
        value, kind, _ = stored
        if kind != "password":
            return value
        try:
            return self._module(key).decrypt(base64.b64decode(value), context=_context(key)).decode()
        except (DecryptionError, ValueError):
            raise SystemConfigError(f"{key}: the stored secret cannot be decrypted with this key") from None

    def _seal(self, key: str, text: str) -> str:
        return base64.b64encode(self._module(key).encrypt(text.encode(), context=_context(key))).decode()

    def _module(self, key: str) -> SecurityModule:
        if self._security is None:
            raise SystemConfigError(f"{key}: no security module to encrypt passwords with")
        return self._security


def _context(key: str) -> bytes:
    return f"config:{key}".encode()
