"""/machine/*, /machineresolver/* and /validate/offlinerefill through the REST API in memory."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from passlib.hash import pbkdf2_sha512

from tesserad.core.tokens import oath

from tests.http.restapi import Api
from tests.wired import RFC_SEED_HEX

SEED = bytes.fromhex(RFC_SEED_HEX)


@pytest.fixture
def hosts(api: Api, tmp_path: Path) -> Path:
    path = tmp_path / "hosts"
    path.write_text("192.0.2.7 pam1.example.com pam1\n192.0.2.8 pam2\n")
    status, body = api.call("POST", "/machineresolver/hostsfile", api.admin(), {"type": "hosts",
                                                                                 "filename": str(path)})
    assert status == 200 and body["result"]["value"] > 0
    api.core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234", serial="OFF1")
    return path


def test_machine_resolvers(api: Api, hosts: Path) -> None:
    admin = api.admin()
    status, body = api.call("GET", "/machineresolver/", admin)
    assert body["result"]["value"] == {"hostsfile": {"resolvername": "hostsfile", "type": "hosts",
                                                     "data": {"filename": str(hosts)}}}
    status, body = api.call("POST", "/machineresolver/test", admin, {"type": "hosts", "filename": str(hosts)})
    assert body["result"]["value"] is True and "2 machines" in body["detail"]["description"]
    status, body = api.call("POST", "/machineresolver/test", admin, {"type": "hosts", "filename": "/nonexistent"})
    assert body["result"]["value"] is False
    status, body = api.call("POST", "/machineresolver/other", admin, {"type": "ldap", "filename": "/x"})
    assert status == 400 and body["result"]["error"]["code"] == 905
    status, body = api.call("POST", "/machineresolver/other", admin, {"type": "hosts", "filename": "relative"})
    assert status == 400 and "absolute" in body["result"]["error"]["message"]
    assert api.call("GET", "/machineresolver/other", admin)[0] == 400
    status, body = api.call("DELETE", "/machineresolver/hostsfile", admin)
    assert status == 200
    assert api.call("GET", "/machineresolver/", admin)[1]["result"]["value"] == {}


def test_list_machines(api: Api, hosts: Path) -> None:
    admin = api.admin()
    status, body = api.call("GET", "/machine/", admin, {"hostname": "pam"})
    assert status == 200 and body["result"]["value"] == [
        {"id": "192.0.2.7", "hostname": ["pam1.example.com", "pam1"], "ip": "192.0.2.7",
         "resolver_name": "hostsfile"},
        {"id": "192.0.2.8", "hostname": ["pam2"], "ip": "192.0.2.8", "resolver_name": "hostsfile"}]
    assert [m["id"] for m in api.call("GET", "/machine/", admin, {"ip": "192.0.2.8"})[1]["result"]["value"]] == [
        "192.0.2.8"]
    assert [m["id"] for m in api.call("GET", "/machine/", admin, {"any": "example"})[1]["result"]["value"]] == [
        "192.0.2.7"]


def test_attach_list_options_detach(api: Api, hosts: Path) -> None:
    admin = api.admin()
    status, body = api.call("POST", "/machine/token", admin, {"serial": "OFF1", "application": "offline",
                                                             "hostname": "pam1", "count": "3", "rounds": "10"})
    assert status == 200 and isinstance(body["result"]["value"], int)
    status, body = api.call("POST", "/machine/token", admin, {"serial": "OFF1", "application": "offline",
                                                             "hostname": "pam1"})
    assert status == 400 and "already attached" in body["result"]["error"]["message"]
    status, body = api.call("GET", "/machine/token", admin, {"serial": "OFF1"})
    (attached,) = body["result"]["value"]
    assert attached["machine_id"] == "192.0.2.7" and attached["resolver"] == "hostsfile"
    assert attached["options"] == {"count": "3", "rounds": "10"} and attached["type"] == "hotp"
    assert len(api.call("GET", "/machine/token", admin, {"hostname": "pam2"})[1]["result"]["value"]) == 0
    status, body = api.call("POST", "/machine/tokenoption", admin, {"serial": "OFF1", "application": "offline",
                                                                    "hostname": "pam1", "rounds": "",
                                                                    "count": "4"})
    assert body["result"]["value"] == {"added": 1, "deleted": 1}
    assert api.call("GET", "/machine/token", admin, {"machineid": "192.0.2.7", "resolver": "hostsfile"}
                    )[1]["result"]["value"][0]["options"] == {"count": "4"}
    # The login from pam1 gets the bag, with the options as set now.
    status, body = api.call("POST", "/validate/check", params={"user": "alice", "pass": "1234" + oath.hotp(SEED, 0)},
                            headers={"User-Agent": "privacyidea-pam/1.0 Hostname/pam1"})
    (item,) = body["auth_items"]["offline"]
    assert item["count"] == "4" and len(item["response"]) == 4
    # The resolver is in use; detach, then it can go.
    assert api.call("DELETE", "/machineresolver/hostsfile", admin)[0] == 400
    status, body = api.call("DELETE", "/machine/token/OFF1/192.0.2.7/hostsfile/offline", admin)
    assert status == 200
    assert api.call("GET", "/machine/token", admin, {"serial": "OFF1"})[1]["result"]["value"] == []
    assert api.call("DELETE", "/machineresolver/hostsfile", admin)[0] == 200


def test_attach_refusals(api: Api, hosts: Path) -> None:
    admin = api.admin()
    api.core.enroll("bob", type="spass", pin="x", serial="SPASS1")
    for params, code in (({"serial": "OFF1", "application": "vpn"}, 905),
                         ({"serial": "SPASS1", "application": "offline"}, 301),
                         ({"serial": "NOPE", "application": "offline"}, 601),
                         ({"serial": "OFF1", "application": "offline", "count": "0"}, 905),
                         ({"serial": "OFF1", "application": "offline", "colour": "red"}, 905),
                         ({"serial": "OFF1", "application": "offline", "hostname": "nohost"}, 905),
                         ({"serial": "OFF1", "application": "offline", "machineid": "1.2.3.4"}, 905)):
        status, body = api.call("POST", "/machine/token", admin, params)
        assert body["result"]["error"]["code"] == code, params
    assert api.call("GET", "/machine/token", admin, {"serial": "OFF1"})[1]["result"]["value"] == []


def test_rights(api: Api, hosts: Path) -> None:
    api.policy("list-only", scope="admin", action="machinelist")
    admin = api.admin()
    assert api.call("GET", "/machine/", admin)[0] == 200
    status, body = api.call("POST", "/machine/token", admin, {"serial": "OFF1", "application": "offline"})
    assert status == 403 and body["result"]["error"]["code"] == 303
    assert api.call("GET", "/machineresolver/", admin)[0] == 403
    api.policy("attach", scope="admin", action="manage_machine_tokens")
    assert api.call("POST", "/machine/token", admin, {"serial": "OFF1", "application": "offline"})[0] == 200
    assert api.call("GET", "/machine/", api.user("alice"))[0] == 401


def test_offlinerefill_over_http(api: Api, hosts: Path) -> None:
    admin = api.admin()
    api.call("POST", "/machine/token", admin, {"serial": "OFF1", "application": "offline", "count": "3",
                                               "rounds": "10"})
    status, body = api.call("POST", "/validate/check", params={"user": "alice", "pass": "1234" + oath.hotp(SEED, 0)})
    assert body["result"]["value"] is True
    (item,) = body["auth_items"]["offline"]
    status, body = api.call("POST", "/validate/offlinerefill", params={
        "serial": "OFF1", "refilltoken": item["refilltoken"], "pass": "1234" + oath.hotp(SEED, 2)})
    assert status == 200 and body["id"] == 2 and body["result"] == {"status": True, "value": True}
    (fresh,) = body["auth_items"]["offline"]
    assert sorted(fresh["response"], key=int) == ["4", "5"]
    assert pbkdf2_sha512.verify("1234" + oath.hotp(SEED, 5), fresh["response"]["5"])
    status, body = api.call("POST", "/validate/offlinerefill", params={
        "serial": "OFF1", "refilltoken": item["refilltoken"], "pass": "1234" + oath.hotp(SEED, 3)})
    assert status == 400 and body["result"]["status"] is False and body["result"]["error"]["code"] == 905
    assert api.call("POST", "/validate/offlinerefill", params={"serial": "OFF1"})[0] == 400


def test_authitem_luks_and_applications(api: Api, hosts: Path) -> None:
    """A LUKS host fetches the response to its challenge; a disabled token gives nothing."""
    admin = api.admin()
    api.core.enroll("alice", type="totp", otpkey=RFC_SEED_HEX, serial="UBOM1")
    status, body = api.call("POST", "/machine/token", admin, {"serial": "UBOM1", "application": "luks",
                                                             "hostname": "pam1", "slot": "1",
                                                             "partition": "/dev/sda3"})
    assert status == 200
    challenge = "00112233"
    status, body = api.call("GET", "/machine/authitem/luks", admin, {"hostname": "pam1", "challenge": challenge})
    expected = hmac.new(SEED, bytes.fromhex(challenge), hashlib.sha1).hexdigest()
    assert status == 200 and body["result"]["value"] == {"luks": [
        {"slot": "1", "partition": "/dev/sda3", "challenge": challenge, "response": expected}]}
    status, body = api.call("GET", "/machine/authitem", admin, {"hostname": "pam1"})
    (item,) = body["result"]["value"]["luks"]
    assert len(item["challenge"]) == 64 and body["result"]["value"]["ssh"] == []
    assert api.call("GET", "/machine/authitem/luks", admin, {"hostname": "pam2"})[1]["result"]["value"] == {
        "luks": []}
    assert api.call("GET", "/machine/authitem/luks", admin, {"hostname": "pam1", "challenge": "xyz"})[0] == 400
    assert api.call("GET", "/machine/authitem/vpn", admin, {"hostname": "pam1"})[0] == 400
    assert api.call("POST", "/token/disable", admin, {"serial": "UBOM1"})[0] == 200
    assert api.call("GET", "/machine/authitem/luks", admin, {"hostname": "pam1"})[1]["result"]["value"] == {
        "luks": []}
    status, body = api.call("GET", "/application/", admin)
    assert body["result"]["value"]["offline"] == {"options": {"user": {"type": "str"}, "count": {"type": "int"},
                                                              "rounds": {"type": "int"}}}
    assert set(body["result"]["value"]) == {"offline", "ssh", "luks"}
    api.policy("list-only", scope="admin", action="machinelist")
    status, body = api.call("GET", "/machine/authitem", api.admin(), {"hostname": "pam1"})
    assert status == 403 and body["result"]["error"]["code"] == 303
