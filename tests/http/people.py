"""More people for the REST API tests: a local admin, realm ``sales`` (dave, erin) and the
superuser realm ``staff`` (sam), all with passwords, beside the wired core's ``example``."""

from __future__ import annotations

from pathlib import Path

import pytest
from passlib.hash import sha512_crypt

from tesserad.core import admins

from tests.http.restapi import Api

ADMIN_PASSWORD = "Adm1n-secret"
PASSWORDS = {"dave": "dave-pw-1", "erin": "erin-pw-2", "sam": "sam-pw-3"}


def _passwd(path: Path, users: dict[str, int]) -> Path:
    path.write_text("".join(f"{name}:{sha512_crypt.using(rounds=1000).hash(PASSWORDS[name])}:{uid}:{uid}:"
                            f"{name.capitalize()} Tester,,,:/home/{name}:/bin/sh\n" for name, uid in users.items()))
    return path


@pytest.fixture
def people(api: Api, tmp_path: Path) -> Api:
    core = api.core
    with core.database.session() as session:
        admins.add(session, core.tokens.hasher, "root", ADMIN_PASSWORD, clock=core.clock)
        core.directory.save_resolver(session, "salesfiles", "passwdresolver",
                                     {"fileName": str(_passwd(tmp_path / "sales", {"dave": 2000, "erin": 2001}))})
        core.directory.save_realm(session, "sales", [("salesfiles", 1)])
        core.directory.save_resolver(session, "stafffiles", "passwdresolver",
                                     {"fileName": str(_passwd(tmp_path / "staff", {"sam": 3000}))})
        core.directory.save_realm(session, "staff", [("stafffiles", 1)])
        session.commit()
    api.configure(superuser_realms=["staff"])
    return api
