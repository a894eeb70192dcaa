"""The agent's offline cache: the hashed OTP values a server gave this host, per user and token.

One JSON file per (user, serial) in the cache directory (0700), written 0600 to a temporary
file, synced and renamed over the old one, so a crash leaves the old or the new file, never
half of one. Every read-modify-write holds one lock (a thread lock and an ``flock`` on the
directory's lock file, for several worker processes), so concurrent logins (ssh and sudo at
once) lose no update and a value is accepted at most once. A login is checked against the
``window`` lowest values of each of the user's tokens (as privacyIDEA's clients do); a match
burns that value and every earlier one. The calls block (file I/O, PBKDF2): run them off the
reactor thread.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tesserad.core.machines import pbkdf2

WINDOW = 10
_SERIAL = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Match:
    """An offline login: the token, the counter used and what is left of its bag."""

    serial: str
    counter: int
    refilltoken: str
    remaining: int


class OfflineCache:
    def __init__(self, directory: Path, window: int = WINDOW):
        self.directory = directory
        self.window = window
        self._lock = threading.Lock()

    # ---- files -----------------------------------------------------------------------------

    @staticmethod
    def _user_key(user: str) -> str:
        return hashlib.sha256(user.encode("utf-8")).hexdigest()[:32]

    def _path(self, user: str, serial: str) -> Path:
        if not _SERIAL.fullmatch(serial):
            raise ValueError("malformed serial in offline items")
        return self.directory / f"{self._user_key(user)}.{serial}.json"

    def _files(self, user: str) -> list[Path]:
        return sorted(self.directory.glob(f"{self._user_key(user)}.*.json"))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The one writer: this process's threads, then other processes (flock)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the flock

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # an unreadable entry logs nobody in; the next online login replaces it
        return data if isinstance(data, dict) and isinstance(data.get("hashes"), dict) else None

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, separators=(",", ":"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    # ---- operations ------------------------------------------------------------------------

    def store(self, user: str, items: list[Mapping[str, Any]]) -> int:
        """Replace the user's bags with the ``auth_items.offline`` entries of an online login;
        how many were stored (entries without hashes are skipped)."""
        stored = 0
        with self._locked():
            for item in items:
                response = item.get("response")
                serial = str(item.get("serial") or "")
                if not isinstance(response, dict) or not serial:
                    continue
                self._write(self._path(user, serial), {
                    "user": user, "serial": serial, "refilltoken": str(item.get("refilltoken") or ""),
                    "hashes": {str(int(c)): str(h) for c, h in response.items()}})
                stored += 1
        return stored

    def refilled(self, user: str, serial: str, item: Mapping[str, Any]) -> int:
        """Add the hashes of a ``/validate/offlinerefill`` answer and take its new refilltoken;
        the number of values now cached for the token."""
        with self._locked():
            path = self._path(user, serial)
            data = self._read(path) or {"user": user, "serial": serial, "hashes": {}}
            data["hashes"].update({str(int(c)): str(h) for c, h in dict(item.get("response") or {}).items()})
            data["refilltoken"] = str(item.get("refilltoken") or "")
            self._write(path, data)
            return len(data["hashes"])

    def has_values(self, user: str) -> bool:
        return any((data := self._read(path)) and data["hashes"] for path in self._files(user))

    def check(self, user: str, password: str) -> Match | None:
        """Accept ``password`` if it is one of the lowest values of one of the user's bags;
        that value and every earlier one are burnt before the answer."""
        with self._locked():
            for path in self._files(user):
                data = self._read(path)
                if not data or data.get("user") != user:
                    continue
                hashes: dict[str, str] = data["hashes"]
                for counter in sorted(hashes, key=int)[:self.window]:
                    if pbkdf2.verify(password, hashes[counter]):
                        used = int(counter)
                        data["hashes"] = {c: h for c, h in hashes.items() if int(c) > used}
                        self._write(path, data)
                        return Match(str(data["serial"]), used, str(data.get("refilltoken") or ""),
                                     len(data["hashes"]))
        return None
