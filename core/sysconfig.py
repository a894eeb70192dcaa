"""System-wide settings (the spec's ``/system/setConfig`` keys) with their defaults.

Stored as strings in the ``config`` table under privacyIDEA's key names, so that an
exported privacyIDEA configuration means the same here; read as one typed, cached
``SystemSettings`` object.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tesserad.core.clock import Clock
from tesserad.core.errors import TesseraError
from tesserad.core.stamps import StampedCache, bump
from tesserad.core.store.models import Config as ConfigRow

STAMP = "config"


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

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


FIELDS = {f.name: f for f in dataclasses.fields(SystemSettings)}
# Type-specific keys (e.g. ``totp.timeStep``, ``hotp.hashlib``) are free-form strings read
# by the token classes; they are kept in ``extra``.
EXTRA_PREFIXES = ("hotp.", "totp.", "pw.", "registration.", "paper", "tan", "motp.", "yubikey.",
                  "daypassword.", "indexedsecret.", "question.", "email.", "sms.")


def _parse(key: str, raw: str) -> Any:
    kind = FIELDS[key].type
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


def _load(session: Session) -> Snapshot:
    values: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for row in session.scalars(select(ConfigRow)):
        if row.key in FIELDS:
            try:
                values[row.key] = _parse(row.key, row.value)
            except SystemConfigError:
                continue  # a broken stored value falls back to the default rather than stop logins
        else:
            extra[row.key] = row.value
    return Snapshot(SystemSettings(**values), extra)


class SystemConfig:
    """Reads and writes the settings; one instance per process."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self._cache: StampedCache[Snapshot] = StampedCache(STAMP, _load, clock)

    def settings(self, session: Session) -> SystemSettings:
        return self._cache.get(session).settings

    def snapshot(self, session: Session) -> Snapshot:
        """Settings and type-specific keys together, as of one moment."""
        return self._cache.get(session)

    def extra(self, session: Session, key: str, default: str | None = None) -> str | None:
        return self._cache.get(session).extra.get(key, default)

    def set(self, session: Session, key: str, value: Any) -> None:
        raw = str(value).lower() if isinstance(value, bool) else str(value)
        if key in FIELDS:
            _parse(key, raw)
        elif not key.startswith(EXTRA_PREFIXES):
            raise SystemConfigError(f"unknown system setting {key!r}")
        row = session.get(ConfigRow, key)
        if row is None:
            session.add(ConfigRow(key=key, value=raw))
        else:
            row.value = raw
        bump(session, STAMP, self._clock)
        self._cache.invalidate()

    def delete(self, session: Session, key: str) -> None:
        session.execute(delete(ConfigRow).where(ConfigRow.key == key))
        bump(session, STAMP, self._clock)
        self._cache.invalidate()
