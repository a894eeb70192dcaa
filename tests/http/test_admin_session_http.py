"""A scripted admin session against a real tesserad with two worker processes, the way
privacyIDEA's admin clients drive it: login, enroll HOTP, list, assign, set PIN, disable,
delete, with the spec's response fields asserted. Every call opens a new connection, so the
calls land on either worker: the JWT of one is good for the other."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, write_config
from tests.provision import add_admins, provision
from tests.wired import PASSWD, RFC4226, RFC_SEED_HEX

PASSWORD = "root-Secret-1"


class Client:
    def __init__(self, url: str):
        self.url = url
        self.token: str | None = None

    def call(self, method: str, path: str, params: dict[str, Any] | None = None, *,
             as_json: bool = False) -> tuple[int, Any]:
        headers = {"Authorization": self.token} if self.token else {}
        url, data = self.url + path, None
        if method in ("GET", "DELETE"):
            url += "?" + urllib.parse.urlencode(params or {})
        elif as_json:
            data, headers["Content-Type"] = json.dumps(params).encode(), "application/json"
        else:
            data = urllib.parse.urlencode(params or {}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture
def client(tmp_path: Path, db_url: str) -> Iterator[Client]:
    passwd = tmp_path / "passwd"
    passwd.write_text(PASSWD)
    data = daemon_config(tmp_path, database={"url": db_url}, server={"workers": 2})
    config = write_config(tmp_path, data)
    provision(config, passwd, [])
    add_admins(config, {"root": PASSWORD})
    daemon = DaemonProcess(tmp_path / "run", config).start()
    try:
        yield Client(f"http://127.0.0.1:{data['web']['listen'][0].split(':')[1]}")
    finally:
        daemon.stop()
        daemon.close()


def value(answer: tuple[int, Any]) -> Any:
    status, body = answer
    assert status == 200 and body["result"]["status"] is True, body
    assert body["jsonrpc"] == "2.0" and body["version"].startswith("privacyIDEA") and "time" in body
    return body["result"]["value"]


def test_scripted_admin_session(client: Client) -> None:
    status, body = client.call("GET", "/token/")
    assert (status, body["result"]["error"]["code"]) == (401, 4033)
    login = value(client.call("POST", "/auth", {"username": "root", "password": PASSWORD}))
    assert (login["role"], login["username"], login["realm"]) == ("admin", "root", "")
    assert "enrollHOTP" in login["rights"] and "tokens" in login["menus"] and login["logout_time"] == 120
    client.token = login["token"]

    status, body = client.call("POST", "/token/init", {"type": "hotp", "otpkey": RFC_SEED_HEX,
                                                       "description": "scripted"}, as_json=True)
    assert status == 200 and body["result"]["value"] is True
    serial = body["detail"]["serial"]
    assert serial.startswith("OATH") and body["detail"]["googleurl"]["value"].startswith("otpauth://hotp/")

    page = value(client.call("GET", "/token/", {"serial": serial}))
    assert (page["count"], page["current"], page["next"], page["prev"]) == (1, 1, None, None)
    token = page["tokens"][0]
    assert {k: token[k] for k in ("serial", "tokentype", "description", "active", "otplen", "count", "maxfail",
                                  "username", "realms", "rollout_state")} == {
        "serial": serial, "tokentype": "hotp", "description": "scripted", "active": True, "otplen": 6,
        "count": 0, "maxfail": 10, "username": "", "realms": [], "rollout_state": ""}

    assert value(client.call("POST", "/token/assign", {"serial": serial, "user": "alice", "realm": "example"})) is True
    assert value(client.call("POST", "/token/setpin", {"serial": serial, "otppin": "1234"})) == 1
    token = value(client.call("GET", "/token/", {"user": "alice"}))["tokens"][0]
    assert (token["username"], token["user_realm"], token["realms"], token["resolver"]) == (
        "alice", "example", ["example"], "files")
    check = value(client.call("POST", "/validate/check", {"user": "alice", "pass": "1234" + RFC4226[0]}))
    assert check is True

    assert value(client.call("POST", "/token/disable", {"serial": serial})) == 1
    assert value(client.call("GET", "/token/", {"serial": serial}))["tokens"][0]["active"] is False
    assert value(client.call("POST", "/validate/check", {"user": "alice", "pass": "1234" + RFC4226[1]})) is False

    assert value(client.call("DELETE", f"/token/{serial}")) == 1
    assert value(client.call("GET", "/token/"))["count"] == 0
    status, body = client.call("DELETE", f"/token/{serial}")
    assert (status, body["result"]["error"]["code"]) == (404, 601)
