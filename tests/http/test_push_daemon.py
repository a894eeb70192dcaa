"""The push token against a real tesserad process: an admin enrolls it over HTTP, the push
client of tests/push_app.py registers, polls and approves; the login then succeeds."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import daemon_config, write_config
from tests.http.test_validate_http import Server, serving
from tests.provision import add_admins, provision
from tests.push_app import PushApp
from tests.wired import PASSWD

URL = "https://mfa.example.org/ttype/push"
ADMIN_PASSWORD = "Push-admin-pw-1"


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[Server]:
    data = daemon_config(tmp_path, database={"url": db_url})
    config = write_config(tmp_path, data)
    passwd = tmp_path / "passwd"
    passwd.write_text(PASSWD)
    provision(config, passwd, [], policies={"push": {"scope": "enrollment",
                                                     "action": f"push_registration_url={URL}"}})
    add_admins(config, {"admin": ADMIN_PASSWORD})
    with serving(tmp_path, data, config) as running:
        yield running


def test_enrol_poll_approve_through_the_daemon(server: Server) -> None:
    status, body = server.call("/auth", {"username": "admin", "password": ADMIN_PASSWORD})
    assert status == 200, body
    jwt = body["result"]["value"]["token"]
    init = urllib.request.Request(server.url + "/token/init", method="POST", headers={"Authorization": jwt},
                                  data=urllib.parse.urlencode({"type": "push", "genkey": "1", "user": "alice",
                                                               "pin": "1"}).encode())
    with urllib.request.urlopen(init, timeout=30) as response:
        detail = json.loads(response.read())["detail"]
    app = PushApp(lambda method, path, params: server.call(path, params, method=method))
    status, body = app.register(detail["pushurl"]["value"])
    assert status == 200 and body["detail"]["public_key"], body
    status, body = server.call("/validate/check", {"user": "alice", "pass": "1"})
    assert body["result"]["authentication"] == "CHALLENGE", body
    transaction_id = body["detail"]["transaction_id"]
    status, body = app.poll(datetime.now(UTC))
    [data] = body["result"]["value"]
    app.verify_challenge(data)
    assert app.answer(data["nonce"])[0] == 200
    assert app.answer(data["nonce"])[0] == 400  # replayed
    assert server.call("/validate/polltransaction", {"transaction_id": transaction_id},
                       method="GET")[1]["result"]["value"] is True
    status, body = server.call("/validate/check", {"user": "alice", "pass": "", "transaction_id": transaction_id})
    assert body["result"] == {"status": True, "value": True, "authentication": "ACCEPT"}, body
