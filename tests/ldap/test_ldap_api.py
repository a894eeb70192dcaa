"""The LDAP resolver through the REST API (``/resolver``, ``/realm``, ``/user``) and the
engine (``otppin=userstore``) over the wired core, against the real slapd."""

from __future__ import annotations

import json

from sqlalchemy import select

from tesserad.core.auth.request import Outcome
from tesserad.core.store.models import AuditEntry

from tests.http.restapi import Api
from tests.http.test_config_api import error, ok
from tests.ldap import slapd as directory
from tests.ldap.conftest import people_config
from tests.ldap.slapd import Slapd
from tests.wired import RFC4226, RFC_SEED_HEX


def settings(slapd: Slapd, **overrides: object) -> dict[str, str]:
    """Resolver settings as an API client posts them: strings, USERINFO as JSON."""
    config = people_config(slapd, **overrides)
    return {"type": "ldapresolver", **{k: json.dumps(v) if isinstance(v, dict) else str(v)
                                       for k, v in config.items()}}


def test_resolver_api_with_connection_test_realm_and_users(api: Api, slapd: Slapd) -> None:
    admin = api.admin()
    posted = settings(slapd)
    resolver_id = ok(api.call("POST", "/resolver/people", admin, posted))
    stored = ok(api.call("GET", "/resolver/people", admin))["people"]
    assert stored["type"] == "ldapresolver" and stored["data"]["BINDPW"] == "__CENSORED__"
    assert stored["data"]["LDAPURI"] == slapd.ldap_uri

    status, body = api.call("POST", "/resolver/test", admin, {**posted, "BINDPW": "__CENSORED__",
                                                              "resolver": "people"})
    assert status == 200 and body["result"]["value"] is True
    assert body["detail"] == {"description": "Resolver config seems OK."}  # no count: nothing of the store
    status, body = api.call("POST", "/resolver/test", admin, {**posted, "BINDPW": "guessed-wrong"})
    assert status == 200 and body["result"]["value"] is False
    assert "invalidCredentials" in body["detail"]["description"]
    assert "guessed-wrong" not in json.dumps(body)
    status, body = api.call("POST", "/resolver/test", admin, {**posted, "LDAPURI": "ldap://127.0.0.1:9"})
    assert body["result"]["value"] is False and "no LDAP server answered" in body["detail"]["description"]

    error(api.call("POST", "/resolver/people", admin, {"SCOPE": "DEEP"}), 400, 904, "SCOPE: 'DEEP' is not one of")
    assert "SCOPE" not in ok(api.call("GET", "/resolver/people", admin))["people"]["data"]  # nothing stored

    ok(api.call("POST", "/realm/people", admin, {"resolvers": "people"}))
    users = ok(api.call("GET", "/user/", admin, {"realm": "people", "username": "alice"}))
    assert len(users) == 1 and users[0]["email"] == "alice@tesserad.test"
    assert users[0]["mobile"] == ["+49 170 1000", "+49 171 1000"] and users[0]["resolver"] == "people"
    assert len(ok(api.call("GET", "/user/", admin, {"realm": "people"}))) == len(directory.PEOPLE)
    error(api.call("DELETE", "/resolver/people", admin), 400, 904, "still used in the realms people")
    assert ok(api.call("GET", "/resolver/", admin, {"type": "ldapresolver"})).keys() == {"people"}
    assert resolver_id > 0


def test_otppin_userstore_binds_as_the_user_and_audits_without_the_password(api: Api, slapd: Slapd) -> None:
    core = api.core
    with core.database.session() as session:
        config = people_config(slapd)
        core.directory.save_resolver(session, "people", "ldapresolver", config)
        core.directory.save_realm(session, "people", [("people", 1)])
        session.commit()
    serial = core.enroll("alice@people", type="hotp", otpkey=RFC_SEED_HEX, pin="unused")
    core.settings(otppin="userstore")
    accepted = core.check("alice-secret" + RFC4226[0], user="alice@people")
    assert accepted.outcome is Outcome.ACCEPT and accepted.serial == serial
    rejected = core.check("not-her-password" + RFC4226[1], user="alice@people")
    assert rejected.outcome is Outcome.REJECT and rejected.message == "wrong otp pin"
    with core.database.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.user == "alice")).all()
        assert [row.success for row in rows][-2:] == [True, False]
        text = " ".join(f"{r.info} {r.action_detail} {r.serial}" for r in rows)
    assert "alice-secret" not in text and "not-her-password" not in text
