"""User-directory fixtures: a migrated database (SQLite and PostgreSQL), a directory over it
with a clock the tests move by hand, and flat files to resolve users from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tesserad.core.clock import FixedClock
from tesserad.core.security.keyfile import KeyFileSecurityModule, KeyMaterial
from tesserad.core.sysconfig import SystemConfig
from tesserad.core.users.directory import Directory

# GECOS as privacyIDEA reads it: "Full Name,room,office phone,home phone,email".
PASSWD = """\
alice:x:1000:1000:Alice Liddell,Room 1,+49 111,+49 222,alice@example.com:/home/alice:/bin/bash
bob:x:1001:1001:Bob Builder,,,:/home/bob:/bin/bash
carol:x:1002:1002:Carol:/home/carol:/bin/bash
"""




@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_700_000_000)


@pytest.fixture
def security() -> KeyFileSecurityModule:
    return KeyFileSecurityModule(KeyMaterial.generate())


@pytest.fixture
def directory(security: KeyFileSecurityModule, clock: FixedClock) -> Iterator[Directory]:
    d = Directory(security, clock, SystemConfig(clock))
    yield d
    d.close()


@pytest.fixture
def passwd_file(tmp_path: Path) -> Path:
    path = tmp_path / "passwd"
    path.write_text(PASSWD)
    return path
