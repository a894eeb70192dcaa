"""The flat-file resolver (``passwdresolver``): users from a file in /etc/passwd format.

Each line is ``login:password:uid:gid:gecos:home:shell``. The user id is the numeric uid
field, so renaming a login keeps its tokens. The password field may hold a crypt(3) hash
(``$6$``, ``$5$``, ``$1$``, bcrypt) or any other format ``hashes`` knows; ``x``, ``*``,
``!...`` and an empty field mean "no password here" (shadow files are not read).

The GECOS field is read as privacyIDEA reads it, so files written for privacyIDEA keep
their meaning: ``Full Name,room,office phone,home phone,other,...``. The given name is
the first word of the full name and the surname the rest; ``mobile`` is the office phone
and ``phone`` the home phone (both only when four fields are present); ``email`` is the
first of the remaining fields that looks like an address; ``description`` is the whole
GECOS field.

The file is parsed once into dictionaries and parsed again when it changes (inode, size,
mtime or ctime differ), so logins cost one ``stat`` and dictionary lookups, and editing
the file needs no restart. A rewrite that keeps the size within one filesystem timestamp
tick can go unnoticed until the next change; replacing the file by rename never does.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tesserad.core.clock import Clock
from tesserad.core.users.base import ConfigKey, Resolver, ResolverError, UserRecord, register_resolver
from tesserad.core.users.hashes import verify_password
from tesserad.core.users.patterns import matches_everything, text_matcher, uid_matcher

log = logging.getLogger(__name__)

DEFAULT_FILE = "/etc/passwd"
SEARCHABLE = ("username", "userid", "givenname", "surname", "email", "phone", "mobile", "description")
_EMAIL = re.compile(r".+@.+\..+")


@dataclass(frozen=True)
class _Entry:
    uid: str
    login: str
    attributes: Mapping[str, str]
    password: str = field(repr=False)


@dataclass(frozen=True)
class _Table:
    """One parse of the file; replaced whole, never changed, so readers need no lock."""

    signature: tuple[int, int, int, int]
    by_login: Mapping[str, str]
    by_uid: Mapping[str, _Entry]
    entries: tuple[_Entry, ...]


def _gecos_attributes(gecos: str) -> dict[str, str]:
    parts = gecos.split(",")
    names = parts[0].strip().split(None, 1)
    attributes = {
        "description": gecos,
        "givenname": names[0] if names else "",
        "surname": names[1] if len(names) > 1 else "",
        "mobile": parts[2].strip() if len(parts) >= 4 else "",
        "phone": parts[3].strip() if len(parts) >= 4 else "",
        "email": "",
    }
    for extra in parts[4:]:
        if _EMAIL.fullmatch(extra.strip()):
            attributes["email"] = extra.strip()
            break
    return attributes


def _parse_line(line: str) -> _Entry | None:
    fields = line.split(":")
    if len(fields) < 3 or not fields[0] or not fields[2]:
        return None
    fields += [""] * (7 - len(fields))
    login, password, uid, gecos = fields[0], fields[1], fields[2], fields[4]
    attributes = {"username": login, "userid": uid, **_gecos_attributes(gecos)}
    return _Entry(uid, login, MappingProxyType(attributes), password)


def _parse(text: str, signature: tuple[int, int, int, int], path: str) -> _Table:
    by_login: dict[str, str] = {}
    by_uid: dict[str, _Entry] = {}
    entries: list[_Entry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        entry = _parse_line(line)
        if entry is None:
            log.warning("%s: line %d is not login:password:uid:...; skipped", path, number)
            continue
        # Like getpwnam/getpwuid: the first line for a login or a uid wins.
        by_login.setdefault(entry.login, entry.uid)
        if entry.uid not in by_uid:
            by_uid[entry.uid] = entry
            entries.append(entry)
    return _Table(signature, MappingProxyType(by_login), MappingProxyType(by_uid), tuple(entries))


def _unusable_password(value: str) -> bool:
    """Fields that lock the account or point to a shadow file."""
    return not value or value in ("x", "*") or value.startswith(("!", "*"))


@register_resolver
class PasswdResolver(Resolver):
    rtype = "passwdresolver"
    config_keys = {
        "fileName": ConfigKey("str", DEFAULT_FILE,
                              doc="path of a file in /etc/passwd format, read by the daemon's user"),
    }

    def __init__(self, name: str, config: Mapping[str, Any], *, clock: Clock | None = None):
        super().__init__(name, config, clock=clock)
        self.path = str(self.config.get("fileName") or DEFAULT_FILE)
        self._lock = threading.Lock()
        self._table: _Table | None = None

    # ---- loading -----------------------------------------------------------------------

    def _signature(self) -> tuple[int, int, int, int]:
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise ResolverError(f"resolver {self.name}: cannot read {self.path}: "
                                f"{exc.strerror or type(exc).__name__}") from None
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def _current(self) -> _Table:
        """The parsed file, parsed again first if it changed since the last look."""
        signature = self._signature()
        table = self._table
        if table is not None and table.signature == signature:
            return table
        with self._lock:
            table = self._table
            if table is not None and table.signature == signature:
                return table  # another thread parsed it meanwhile
            table = self._load()
            self._table = table
            return table

    def _load(self) -> _Table:
        try:
            # Take the signature of what we read, not of what we stat'ed before: a change
            # between the two is then seen at the next look.
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                st = os.fstat(handle.fileno())
                text = handle.read()
        except OSError as exc:
            raise ResolverError(f"resolver {self.name}: cannot read {self.path}: "
                                f"{exc.strerror or type(exc).__name__}") from None
        signature = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        table = _parse(text, signature, self.path)
        log.info("resolver %s: read %d users from %s", self.name, len(table.entries), self.path)
        return table

    # ---- the resolver interface --------------------------------------------------------

    def uid_for(self, login: str) -> str | None:
        return self._current().by_login.get(login)

    def get(self, uid: str) -> UserRecord | None:
        entry = self._current().by_uid.get(uid)
        return None if entry is None else UserRecord(entry.uid, entry.login, dict(entry.attributes))

    def search(self, filters: Mapping[str, str] | None = None, *, offset: int = 0,
               limit: int | None = None) -> list[UserRecord]:
        checks = []
        for key, pattern in (filters or {}).items():
            if key not in SEARCHABLE:
                return []  # this store cannot have users with that attribute
            if not matches_everything(pattern):
                checks.append((key, uid_matcher(pattern) if key == "userid" else text_matcher(pattern)))
        found = [e for e in self._current().entries
                 if all(check(e.attributes[key]) for key, check in checks)]
        end = None if limit is None else offset + limit
        return [UserRecord(e.uid, e.login, dict(e.attributes)) for e in found[offset:end]]

    def check_password(self, uid: str, password: str) -> bool:
        entry = self._current().by_uid.get(uid)
        if entry is None or _unusable_password(entry.password):
            return False
        return verify_password(password, entry.password)

    def test_connection(self) -> tuple[bool, str]:
        try:
            count = len(self._current().entries)
        except ResolverError as exc:
            return False, str(exc)
        return True, f"Resolver config seems OK. {count} Users found."
