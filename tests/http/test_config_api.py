"""The configuration endpoints in memory over the wired core (SQLite and PostgreSQL): each
endpoint's answer in the spec's shape, and bad input refused precisely without a change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tesserad.core.store.models import AuditEntry, Config, Policy

from tests.http.restapi import Api, resolved
from tests.users.test_directory_admin import create_user_table
from tests.users.test_sql import MAP

PASSWD2 = "dave:x:2000:2000:Dave Null,,,:/home/dave:/bin/sh\n"


def ok(result: tuple[int, Any]) -> Any:
    status, body = result
    assert status == 200, body
    assert body["result"]["status"] is True
    return body["result"]["value"]


def error(result: tuple[int, Any], status: int, code: int, message: str) -> None:
    got, body = result
    assert (got, body["result"]["status"]) == (status, False), body
    assert body["result"]["error"]["code"] == code
    assert message in body["result"]["error"]["message"], body["result"]["error"]["message"]


def raw(api: Api, path: str, token: str) -> tuple[int, dict[str, str], bytes]:
    response = resolved(api.http.get(f"http://localhost{path}", headers={"Authorization": token}))
    headers = {k.decode().lower(): v[0].decode() for k, v in response.headers.getAllRawHeaders()}
    return response.code, headers, resolved(response.content())


def audit_count(api: Api) -> int:
    with api.core.database.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


@pytest.fixture
def admin(api: Api) -> str:
    return api.admin()


@pytest.fixture
def second_file(tmp_path: Path) -> Path:
    path = tmp_path / "passwd2"
    path.write_text(PASSWD2)
    return path


# ---- /realm and /defaultrealm -------------------------------------------------------------------

def test_realm_lifecycle(api: Api, admin: str, second_file: Path) -> None:
    ok(api.call("POST", "/resolver/more", admin, {"type": "passwdresolver", "fileName": str(second_file)}))
    value = ok(api.call("POST", "/realm/Staff", admin, {"resolvers": "files, more, ghost",
                                                        "priority.files": "2", "priority.more": "1"}))
    assert value == {"added": ["files", "more"], "failed": ["ghost"]}
    realms = ok(api.call("GET", "/realm/", admin))
    assert set(realms) == {"example", "staff"}
    assert realms["staff"]["default"] is False and realms["example"]["default"] is True
    assert realms["staff"]["resolver"] == [{"name": "more", "type": "passwdresolver", "priority": 1},
                                           {"name": "files", "type": "passwdresolver", "priority": 2}]
    # Re-posting overwrites the resolver list.
    ok(api.call("POST", "/realm/staff", admin, body={"resolvers": ["more"]}))
    assert ok(api.call("GET", "/realm/", admin))["staff"]["resolver"] == [
        {"name": "more", "type": "passwdresolver", "priority": None}]
    assert ok(api.call("POST", "/defaultrealm/staff", admin)) == 1
    assert list(ok(api.call("GET", "/defaultrealm", admin))) == ["staff"]
    assert ok(api.call("DELETE", "/defaultrealm", admin)) == 1
    assert ok(api.call("GET", "/defaultrealm", admin)) == {}
    assert ok(api.call("DELETE", "/realm/staff", admin)) == 1
    assert list(ok(api.call("GET", "/realm/", admin))) == ["example"]
    assert ok(api.call("GET", "/realm/superuser", admin)) == []


def test_realm_bad_input_changes_nothing(api: Api, admin: str) -> None:
    before = ok(api.call("GET", "/realm/", admin))
    error(api.call("POST", "/realm/staff", admin, {}), 400, 905, "missing parameter: resolvers")
    error(api.call("POST", "/realm/staff", admin, {"resolvers": "files", "priority.files": "first"}),
          400, 905, "parameter priority.files must be an integer")
    error(api.call("POST", "/realm/staff", admin, {"resolvers": "files", "priority.files": "0"}),
          400, 904, "priority of resolver files must be 1..999")
    error(api.call("POST", "/realm/st aff", admin, {"resolvers": "files"}), 400, 904, "realm name 'st aff' is invalid")
    error(api.call("POST", "/realm/staff", admin, body={"resolvers": [1, 2]}), 400, 905,
          "parameter resolvers must be a list of strings")
    error(api.call("POST", "/realm/staff", admin, raw=b'{"resolvers": ', headers={"Content-Type": "application/json"}),
          400, 905, "the body is not valid UTF-8 JSON")
    error(api.call("DELETE", "/realm/nowhere", admin), 400, 904, "realm nowhere does not exist")
    error(api.call("POST", "/defaultrealm/nowhere", admin), 400, 904, "realm nowhere does not exist")
    assert ok(api.call("GET", "/realm/", admin)) == before


def test_realm_needs_a_token_and_the_admin_role(api: Api) -> None:
    error(api.call("GET", "/realm/"), 401, 4033, "Missing Authorization header")
    error(api.call("GET", "/realm/", api.user("alice")), 401, 4306, "necessary role")


# ---- /resolver ---------------------------------------------------------------------------------

def test_resolver_lifecycle_with_censored_secrets(api: Api, admin: str, user_db_url: str) -> None:
    create_user_table(user_db_url)
    settings = {"type": "sqlresolver", "URL": user_db_url, "Table": "app_users", "Map": json.dumps(MAP),
                "Editable": "1", "Password": "db-secret"}
    resolver_id = ok(api.call("POST", "/resolver/appdb", admin, settings))
    assert isinstance(resolver_id, int) and resolver_id > 0
    listed = ok(api.call("GET", "/resolver/", admin))
    assert set(listed) == {"files", "appdb"}
    appdb = ok(api.call("GET", "/resolver/appdb", admin))["appdb"]
    assert appdb["type"] == "sqlresolver" and appdb["resolvername"] == "appdb"
    assert appdb["data"]["URL"] == "__CENSORED__" and appdb["data"]["Password"] == "__CENSORED__"
    assert appdb["censor_keys"] == ["Password", "URL"]
    assert list(ok(api.call("GET", "/resolver/", admin, {"type": "passwdresolver"}))) == ["files"]
    assert list(ok(api.call("GET", "/resolver/", admin, {"editable": "1"}))) == ["appdb"]
    assert ok(api.call("GET", "/resolver/nothing", admin)) == {}
    # An update without the type, keeping the stored secrets.
    assert ok(api.call("POST", "/resolver/appdb", admin, {"URL": "__CENSORED__", "Limit": "50"})) == resolver_id
    status, body = api.call("POST", "/resolver/test", admin, {**settings, "URL": "__CENSORED__", "resolver": "appdb"})
    assert status == 200 and body["result"]["value"] is True
    assert body["detail"] == {"description": "Resolver config seems OK."}
    assert ok(api.call("DELETE", "/resolver/appdb", admin)) == resolver_id
    assert "appdb" not in ok(api.call("GET", "/resolver/", admin))


def test_resolver_test_reports_the_reason(api: Api, admin: str, tmp_path: Path) -> None:
    status, body = api.call("POST", "/resolver/test", admin, {"type": "passwdresolver",
                                                              "fileName": str(tmp_path / "none")})
    assert status == 200 and body["result"]["value"] is False
    assert "cannot read" in body["detail"]["description"]
    status, body = api.call("POST", "/resolver/test", admin, {"type": "ldapresolverx"})
    assert body["result"]["value"] is False and "unknown resolver type 'ldapresolverx'" in body["detail"]["description"]


def test_resolver_bad_input_changes_nothing(api: Api, admin: str, tmp_path: Path) -> None:
    before = ok(api.call("GET", "/resolver/", admin))
    error(api.call("POST", "/resolver/new", admin, {"type": "nosuchresolver"}), 400, 904,
          "unknown resolver type 'nosuchresolver'")
    error(api.call("POST", "/resolver/new", admin, {"fileName": "/etc/passwd"}), 400, 904,
          "resolver new does not exist yet: give its type")
    error(api.call("POST", "/resolver/files", admin, {"type": "sqlresolver"}), 400, 904, "the type cannot change")
    error(api.call("POST", "/resolver/files", admin, {"filename": "/x"}), 400, 904,
          "resolver type passwdresolver has no setting filename")
    error(api.call("DELETE", "/resolver/files", admin), 400, 904, "still used in the realms example")
    error(api.call("POST", "/resolver/test", admin, {}), 400, 905, "missing parameter: type")
    assert ok(api.call("GET", "/resolver/", admin)) == before


# ---- /user -------------------------------------------------------------------------------------

def test_user_list_for_admins_and_users(api: Api, admin: str) -> None:
    users = ok(api.call("GET", "/user/", admin, {"realm": "example"}))
    assert [u["username"] for u in users] == ["alice", "bob", "carol"]
    assert users[0] == {"username": "alice", "userid": "1000", "givenname": "Alice", "surname": "Liddell",
                        "email": "", "phone": "", "mobile": "", "description": "Alice Liddell,,,",
                        "resolver": "files", "editable": False}
    assert [u["username"] for u in ok(api.call("GET", "/user/", admin, {"username": "*o*"}))] == ["bob", "carol"]
    assert [u["username"] for u in ok(api.call("GET", "/user", admin, {"user": "carol"}))] == ["carol"]
    assert ok(api.call("GET", "/user/", admin, {"realm": "example", "surname": "Build*"}))[0]["username"] == "bob"
    mine = ok(api.call("GET", "/user/", api.user("bob"), {"realm": "example", "username": "*"}))
    assert [u["username"] for u in mine] == ["bob"]
    error(api.call("GET", "/user/", admin, {"realm": "nowhere"}), 400, 904, "realm nowhere does not exist")


@pytest.mark.policy_action("user", "updateuser")
def test_editable_users_over_http(api: Api, admin: str, user_db_url: str) -> None:
    create_user_table(user_db_url)
    ok(api.call("POST", "/resolver/appdb", admin, {"type": "sqlresolver", "URL": user_db_url, "Table": "app_users",
                                                   "Map": json.dumps(MAP), "Editable": "1"}))
    ok(api.call("POST", "/realm/apps", admin, {"resolvers": "appdb"}))
    uid = ok(api.call("POST", "/user/", admin, {"user": "dora", "resolver": "appdb", "email": "d@example.com",
                                                "password": "Dora-pw-1"}))
    assert isinstance(uid, str) and uid
    [dora] = ok(api.call("GET", "/user/", admin, {"realm": "apps"}))
    assert (dora["username"], dora["email"], dora["editable"]) == ("dora", "d@example.com", True)
    error(api.call("POST", "/user", admin, {"user": "dora", "resolver": "appdb", "shoesize": "40"}), 400, 904,
          "attributes not in its Map: shoesize")
    assert ok(api.call("PUT", "/user/", admin, {"user": "dora", "resolver": "appdb", "surname": "Explorer"})) is True
    # A user changes only themselves, whatever they name.
    dora_token = api.user("dora", "apps")
    assert ok(api.call("PUT", "/user", dora_token, {"user": "someone", "resolver": "files", "phone": "123"})) is True
    error(api.call("PUT", "/user", dora_token, {"username": "root"}), 400, 905, "cannot change their own login")
    [dora] = ok(api.call("GET", "/user/", admin, {"realm": "apps"}))
    assert (dora["surname"], dora["phone"]) == ("Explorer", "123")
    # Once user policies exist, only updateuser lets a user change their attributes.
    api.policy("self", scope="user", action="userlist")
    error(api.call("PUT", "/user", dora_token, {"phone": "456"}), 403, 303, "the action updateuser is not allowed")
    api.policy("self", scope="user", action="userlist, updateuser")
    assert ok(api.call("PUT", "/user", dora_token, {"phone": "456"})) is True
    assert ok(api.call("GET", "/user/", admin, {"realm": "apps"}))[0]["phone"] == "456"
    with api.core.database.session() as session:
        user = api.core.directory.find_user(session, "dora", "apps")
        assert api.core.directory.check_password(session, user, "Dora-pw-1")
        rows = session.scalars(select(AuditEntry.info)).all()
    assert not any("Dora-pw-1" in (info or "") for info in rows)
    assert ok(api.call("DELETE", "/user/appdb/dora", admin)) is True
    assert ok(api.call("GET", "/user/", admin, {"realm": "apps"})) == []
    error(api.call("DELETE", "/user/appdb/dora", admin), 400, 904, "resolver appdb has no user 'dora'")
    error(api.call("POST", "/user/", admin, {"user": "eve", "resolver": "files"}), 400, 904,
          "resolver files is not editable")
    error(api.call("POST", "/user/", admin, {"resolver": "files"}), 400, 905, "missing parameter: user")
    error(api.call("DELETE", "/user/files/alice", api.user("alice")), 401, 4306, "necessary role")


# ---- /system -----------------------------------------------------------------------------------

def test_system_config_roundtrip(api: Api, admin: str) -> None:
    value = ok(api.call("POST", "/system/setConfig", admin, {"splitAtSign": "0", "email.password": "m41l",
                                                             "email.password.type": "password",
                                                             "totp.timeStep": "60", "totp.timeStep.desc": "slow"}))
    assert value == {"splitAtSign": "insert", "email.password": "insert", "totp.timeStep": "insert"}
    assert ok(api.call("POST", "/system/setConfig", admin, {"key": "splitAtSign", "value": "1"})) == {
        "splitAtSign": "update"}
    listing = ok(api.call("GET", "/system/", admin))
    assert listing["splitAtSign"] == "1" and listing["email.password"] == "__CENSORED__"
    assert listing["totp.timeStep"] == "60" and listing["PrependPin"] == "True"
    assert ok(api.call("GET", "/system/DefaultMaxFailCount", admin)) == "10"
    assert ok(api.call("GET", "/system/unknownKey", admin)) is None
    with api.core.database.session() as session:
        assert api.core.sysconfig.secret(session, "email.password") == "m41l"
        infos = session.scalars(select(AuditEntry.info)).all()
    assert not any("m41l" in (i or "") for i in infos)
    assert ok(api.call("POST", "/system/setDefault", admin, {"DefaultMaxFailCount": "5", "DefaultOtpLen": "8",
                                                             "other": "ignored"})) == {
        "DefaultMaxFailCount": "insert", "DefaultOtpLen": "insert"}
    assert ok(api.call("DELETE", "/system/DefaultOtpLen", admin)) is True
    assert ok(api.call("GET", "/system/DefaultOtpLen", admin)) == "6"
    assert ok(api.call("GET", "/system/", api.user("alice"))) == {}


def test_system_bad_input_changes_nothing(api: Api, admin: str) -> None:
    with api.core.database.session() as session:
        before = session.scalar(select(func.count()).select_from(Config))
    error(api.call("POST", "/system/setConfig", admin, {"splitAtSign": "0", "DefaultMaxFailCount": "lots"}),
          400, 905, "DefaultMaxFailCount: expected an integer")
    error(api.call("POST", "/system/setConfig", admin, {"colour": "blue"}), 400, 905,
          "unknown system setting 'colour'")
    error(api.call("POST", "/system/setConfig", admin, {}), 400, 905, "no settings given")
    error(api.call("POST", "/system/setConfig", admin, body={"splitAtSign": ["0"]}), 400, 905,
          "parameter splitAtSign must be a string")
    error(api.call("POST", "/system/setDefault", admin, {"PrependPin": "0"}), 400, 905,
          "give at least one of DefaultMaxFailCount")
    with api.core.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Config)) == before
        assert api.core.sysconfig.settings(session).splitAtSign is True


def test_system_documentation_and_random(api: Api, admin: str) -> None:
    ok(api.call("POST", "/system/setConfig", admin, {"email.password": "m41l", "email.password.type": "password"}))
    status, headers, content = raw(api, "/system/documentation", admin)
    text = content.decode()
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert text.startswith("tesserad configuration") and "Realms\n------" in text and "m41l" not in text
    value = ok(api.call("GET", "/system/random", admin, {"len": "32"}))
    assert len(value) == 64 and int(value, 16) >= 0
    assert len(ok(api.call("GET", "/system/random", admin, {"len": "3", "encode": "b64"}))) == 4
    error(api.call("GET", "/system/random", admin, {"len": "5000"}), 400, 905, "parameter len must be between 1")
    error(api.call("GET", "/system/random", admin, {"encode": "rot13"}), 400, 905, "parameter encode must be one of")


# ---- /policy -----------------------------------------------------------------------------------

def test_policy_lifecycle(api: Api, admin: str) -> None:
    conditions = [["userinfo", "email", "matches", ".*@example.com", True]]
    # Once admin policies exist, this one keeps the admin's policy rights.
    ok(api.call("POST", "/policy/policies", admin,
                {"scope": "admin", "action": "policyread, policywrite, policydelete"}))
    value = ok(api.call("POST", "/policy/pol1", admin, body={
        "scope": "admin", "action": "enable, disable, otp_pin_minlength=6", "realm": ["example"],
        "client": "10.0.0.0/8", "priority": 2, "conditions": conditions}))
    policy_id = value["setPolicy pol1"]
    assert isinstance(policy_id, int) and policy_id > 0
    ok(api.call("POST", "/policy/pol2", admin, {"scope": "authentication", "action": "otppin=userstore",
                                                "conditions": json.dumps([]), "active": "false"}))
    [pol1] = ok(api.call("GET", "/policy/pol1", admin))
    assert pol1 == {"name": "pol1", "scope": "admin", "action": {"enable": True, "disable": True,
                                                                "otp_pin_minlength": "6"},
                    "realm": ["example"], "resolver": [], "user": [], "adminrealm": [], "adminuser": [],
                    "client": ["10.0.0.0/8"], "pinode": [], "time": "", "priority": 2, "active": True,
                    "check_all_resolvers": False, "description": "", "conditions": conditions}
    assert [p["name"] for p in ok(api.call("GET", "/policy/", admin, {"scope": "authentication"}))] == ["pol2"]
    assert [p["name"] for p in ok(api.call("GET", "/policy/", admin, {"active": "false"}))] == ["pol2"]
    assert ok(api.call("POST", "/policy/enable/pol2", admin)) > 0
    # Strongest first: priority, then name.
    assert [p["name"] for p in ok(api.call("GET", "/policy/", admin, {"active": "true"}))] == ["pol2", "policies",
                                                                                                "pol1"]
    assert ok(api.call("POST", "/policy/disable/pol2", admin)) > 0
    check = ok(api.call("GET", "/policy/check", admin, {"scope": "admin", "action": "enable", "realm": "example",
                                                        "user": "alice", "client": "10.1.1.1"}))
    assert check["allowed"] is True and [p["name"] for p in check["policy"]] == ["pol1"]
    assert ok(api.call("GET", "/policy/check", admin, {"scope": "admin", "action": "delete"})) == {
        "allowed": False, "info": "No policies found"}
    assert ok(api.call("DELETE", "/policy/pol2", admin)) > 0
    assert [p["name"] for p in ok(api.call("GET", "/policy/", admin))] == ["policies", "pol1"]


def test_policy_defs(api: Api, admin: str) -> None:
    defs = ok(api.call("GET", "/policy/defs", admin))
    assert defs["admin"]["enable"] == {"type": "bool", "desc": "Enable tokens.", "group": "token"}
    assert defs["webui"]["login_mode"]["value"] == ["userstore", "privacyIDEA", "disable"]
    assert "otppin" in ok(api.call("GET", "/policy/defs/authentication", admin))
    assert set(ok(api.call("GET", "/policy/defs/conditions", admin))) == {"sections", "comparators"}
    assert ok(api.call("GET", "/policy/defs/pinodes", admin)) == [api.rest.node]
    error(api.call("GET", "/policy/defs/galaxy", admin), 400, 905, "unknown scope 'galaxy'")


def test_policy_export_and_import(api: Api, admin: str) -> None:
    ok(api.call("POST", "/policy/pol1", admin, {"scope": "user", "action": "setpin", "realm": "example"}))
    status, headers, content = raw(api, "/policy/export/policies.json", admin)
    assert status == 200 and headers["content-disposition"] == 'attachment; filename="policies.json"'
    exported = json.loads(content)
    assert [p["name"] for p in exported["policies"]] == ["pol1"]
    ok(api.call("DELETE", "/policy/pol1", admin))
    upload = (b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.cfg\"\r\n"
              b"Content-Type: text/plain\r\n\r\n" + content + b"\r\n--XyZ--\r\n")
    assert ok(api.call("POST", "/policy/import/p.cfg", admin, raw=upload,
                       headers={"Content-Type": "multipart/form-data; boundary=XyZ"})) == 1
    privacyidea = "[pi1]\nscope = user\naction = {'setpin': True}\nactive = True\n"
    assert ok(api.call("POST", "/policy/import/pi.cfg", admin, {"file": privacyidea})) == 1
    assert [p["name"] for p in ok(api.call("GET", "/policy/", admin))] == ["pi1", "pol1"]
    error(api.call("POST", "/policy/import/bad.cfg", admin, {"file": "[x]\nscope = admin\naction = {'fly': True}\n"}),
          400, 905, "'fly' is not an action of scope 'admin'")
    error(api.call("GET", "/policy/export/p%3Bx.json", admin), 400, 905, "the file name may have")


@pytest.mark.parametrize("params, message", [
    ({"scope": "admin", "action": "fly"}, "action: 'fly' is not an action of scope 'admin'"),
    ({"scope": "galaxy"}, "scope: 'galaxy' is not a scope"),
    ({"scope": "admin", "action": "enable", "client": "10.0.0.0/33"}, "client: '10.0.0.0/33' is not an IP"),
    ({"scope": "admin", "action": "enable", "priority": "high"}, "priority: expected a positive integer"),
    ({"scope": "admin", "action": "enable", "conditions": "[["}, "parameter conditions must be a JSON list"),
    ({"scope": "admin", "action": "enable", "conditions": '[["nowhere", "k", "equals", "v", true]]'},
     "condition 1: 'nowhere' is not a section"),
    ({"scope": "user", "action": "setpin", "adminrealm": "r"}, "only admin policies name administrators"),
])
def test_policy_bad_definitions_change_nothing(api: Api, admin: str, params: dict[str, str], message: str) -> None:
    status, body = api.call("POST", "/policy/bad", admin, params)
    assert status == 400 and message in body["result"]["error"]["message"], body
    with api.core.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Policy)) == 0


def test_policy_name_and_missing_policy(api: Api, admin: str) -> None:
    status, body = api.call("POST", "/policy/bad name!", admin, {"scope": "admin", "action": "enable"})
    assert status == 400 and "is not a policy name" in body["result"]["error"]["message"]
    error(api.call("DELETE", "/policy/ghost", admin), 404, 601, "no policy is named 'ghost'")
    error(api.call("POST", "/policy/enable/ghost", admin), 404, 601, "no policy is named 'ghost'")


# ---- /audit, /info, /ttype ---------------------------------------------------------------------

def test_audit_search_and_csv(api: Api, admin: str) -> None:
    api.core.check("wrong", user="alice")
    api.core.check("wrong", user="bob")
    page = ok(api.call("GET", "/audit/", admin, {"user": "alice", "action": "*validate*"}))
    assert page["count"] == 1 and page["current"] == 1 and page["prev"] is None and page["next"] is None
    [entry] = page["auditdata"]
    assert entry["user"] == "alice" and entry["sig_check"] == "OK" and entry["success"] == 0
    assert "privacyidea_server" in page["auditcolumns"]
    status, headers, content = raw(api, "/audit/audit.csv?user=bob", admin)
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert headers["content-disposition"] == 'attachment; filename="audit.csv"'
    lines = content.decode().splitlines()
    assert lines[0].startswith("number,date,sig_check") and len(lines) == 2 and ",bob," in lines[1]
    mine = ok(api.call("GET", "/audit/", api.user("bob")))
    assert {e["user"] for e in mine["auditdata"]} == {"bob"}
    error(api.call("GET", "/audit/", admin, {"page_size": "0"}), 400, 905, "page_size: expected a positive integer")
    error(api.call("GET", "/audit/", admin, {"colour": "red"}), 400, 905, "unknown audit parameter 'colour'")


def test_info_and_ttype(api: Api) -> None:
    before = audit_count(api)
    info = ok(api.call("GET", "/info"))
    assert info["server"] == "tesserad" and info["api_version"] == "3.8" and info["version"]
    assert audit_count(api) == before  # /info is not audited
    error(api.call("GET", "/ttype/hotp"), 400, 905, "token type hotp has no /ttype endpoint")
    error(api.call("POST", "/ttype/warpdrive"), 400, 905, "unknown token type 'warpdrive'")
