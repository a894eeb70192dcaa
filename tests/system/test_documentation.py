"""The system documentation: every part of the configuration, secrets censored."""

from __future__ import annotations

import json
from pathlib import Path

from tesserad.core.clock import FixedClock
from tesserad.core.documentation import documentation
from tesserad.core.policy import PolicyStore
from tesserad.core.security.keyfile import KeyFileSecurityModule, KeyMaterial
from tesserad.core.store import Database
from tesserad.core.sysconfig import SystemConfig
from tesserad.core.users.directory import Directory


def test_documentation_covers_everything_without_secrets(db: Database, tmp_path: Path) -> None:
    clock = FixedClock()
    security = KeyFileSecurityModule(KeyMaterial.generate())
    sysconfig = SystemConfig(clock, security)
    directory = Directory(security, clock, sysconfig)
    store = PolicyStore(clock)
    passwd = tmp_path / "passwd"
    passwd.write_text("alice:x:1000:1000::/:/bin/sh\n")
    with db.session() as s:
        sysconfig.set(s, "DefaultOtpLen", "8", description="longer codes")
        sysconfig.set(s, "email.password", "mail-secret", type="password")
        directory.save_resolver(s, "files", "passwdresolver", {"fileName": str(passwd)})
        directory.save_resolver(s, "appdb", "sqlresolver", {"URL": "sqlite://", "Password": "db-secret",
                                                            "Table": "users",
                                                            "Map": json.dumps({"userid": "id", "username": "u"})})
        directory.save_realm(s, "sales", [("files", 3)])
        store.set_policy(s, "pins", scope="admin", action="setpin, otp_pin_minlength=6", realm="sales")
        s.commit()
        text = documentation(s, sysconfig, directory, store)
    assert text.startswith("tesserad configuration\n======================\n")
    assert ":DefaultOtpLen: 8 (longer codes)" in text and ":PrependPin: True" in text
    assert "files\n~~~~~\n\n:type: passwdresolver\n:fileName: " + str(passwd) in text
    assert ":URL: __CENSORED__" in text and ":Password: __CENSORED__" in text
    assert "sales\n~~~~~\n\n:default: yes\n:resolvers: files (priority 3)" in text
    assert ":action: setpin, otp_pin_minlength=6" in text and ":realm: sales" in text
    assert "mail-secret" not in text and "db-secret" not in text
