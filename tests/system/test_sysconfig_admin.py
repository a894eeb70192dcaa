"""System settings as the /system endpoints use them, on SQLite and PostgreSQL: insert and
update answers, typed checks, encrypted passwords, listings with secrets censored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tesserad.core.clock import FixedClock
from tesserad.core.security.keyfile import KeyFileSecurityModule, KeyMaterial
from tesserad.core.store import Database
from tesserad.core.store.models import Config
from tesserad.core.sysconfig import CENSORED, SystemConfig, SystemConfigError


@pytest.fixture
def security() -> KeyFileSecurityModule:
    return KeyFileSecurityModule(KeyMaterial.generate())


@pytest.fixture
def sysconfig(security: KeyFileSecurityModule) -> SystemConfig:
    return SystemConfig(FixedClock(), security)


def test_set_answers_insert_then_update_and_types_are_checked(db: Database, sysconfig: SystemConfig) -> None:
    with db.session() as session:
        assert sysconfig.set(session, "DefaultMaxFailCount", "5") == "insert"
        assert sysconfig.set(session, "DefaultMaxFailCount", 7, description="lockout") == "update"
        assert sysconfig.set(session, "totp.timeStep", "60", type="int") == "insert"
        session.commit()
        assert sysconfig.settings(session).DefaultMaxFailCount == 7
        assert sysconfig.extra(session, "totp.timeStep") == "60"
        assert sysconfig.descriptions(session)["DefaultMaxFailCount"] == ("", "lockout")


@pytest.mark.parametrize("key, value, kind, message", [
    ("DefaultMaxFailCount", "many", "", "DefaultMaxFailCount: expected an integer, got 'many'"),
    ("splitAtSign", "perhaps", "", "splitAtSign: expected a boolean"),
    ("favouriteColour", "blue", "", "unknown system setting 'favouriteColour'"),
    ("totp.timeStep", "x", "int", "totp.timeStep: expected an integer"),
    ("totp.timeStep", "30", "float", "totp.timeStep.type: expected one of"),
    ("PrependPin", "secret", "password", "PrependPin is a bool setting and cannot be a password"),
])
def test_bad_settings_are_refused_and_change_nothing(db: Database, sysconfig: SystemConfig, key: str,
                                                     value: str, kind: str, message: str) -> None:
    with db.session() as session:
        with pytest.raises(SystemConfigError, match=message):
            sysconfig.set(session, key, value, type=kind)
        session.commit()
        assert session.scalar(select(Config).where(Config.key == key)) is None


def test_password_settings_are_encrypted_and_censored(db: Database, sysconfig: SystemConfig,
                                                      security: KeyFileSecurityModule) -> None:
    with db.session() as session:
        sysconfig.set(session, "email.password", "s3cret!", type="password")
        session.commit()
        stored = session.scalar(select(Config.value).where(Config.key == "email.password"))
        assert stored and "s3cret" not in stored
        assert sysconfig.listing(session)["email.password"] == CENSORED
        assert sysconfig.secret(session, "email.password") == "s3cret!"
        # Another key cannot decrypt it: the ciphertext is bound to its key name.
        session.add(Config(key="email.other", value=stored, type="password"))
        session.commit()
        with pytest.raises(SystemConfigError, match="email.other: the stored secret cannot be decrypted"):
            SystemConfig(FixedClock(), security).secret(session, "email.other")


def test_password_needs_a_security_module(db: Database) -> None:
    with db.session() as session, pytest.raises(SystemConfigError, match="no security module"):
        SystemConfig(FixedClock()).set(session, "email.password", "x", type="password")


def test_listing_has_defaults_and_public_only_for_users(db: Database, sysconfig: SystemConfig) -> None:
    with db.session() as session:
        sysconfig.set(session, "splitAtSign", "0")
        sysconfig.set(session, "sms.provider", "http", type="public")
        session.commit()
        listing = sysconfig.listing(session)
        assert listing["splitAtSign"] == "0" and listing["PrependPin"] == "True"
        assert listing["DefaultMaxFailCount"] == "10" and listing["sms.provider"] == "http"
        assert sysconfig.listing(session, public_only=True) == {"sms.provider": "http"}


def test_delete_falls_back_to_the_default(db: Database, sysconfig: SystemConfig) -> None:
    with db.session() as session:
        sysconfig.set(session, "DefaultOtpLen", "8")
        session.commit()
        assert sysconfig.settings(session).DefaultOtpLen == 8
        assert sysconfig.delete(session, "DefaultOtpLen") is True
        session.commit()
        assert sysconfig.settings(session).DefaultOtpLen == 6
        assert sysconfig.delete(session, "DefaultOtpLen") is False
