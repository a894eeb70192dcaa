"""/validate/* over HTTP against a real tesserad process, as privacyIDEA clients call it."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tesserad.core.store.models import Token

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, write_config
from tests.provision import provision_hotp_people, stored_token
from tests.wired import RFC4226


class Server:
    def __init__(self, url: str, config: Path, daemon: DaemonProcess):
        self.url = url
        self.config = config
        self.daemon = daemon

    def call(self, path: str, params: dict[str, str] | None = None, *, method: str = "POST",
             body: bytes | None = None, content_type: str = "application/x-www-form-urlencoded") -> tuple[int, Any]:
        data = body if body is not None else urllib.parse.urlencode(params or {}).encode()
        url = self.url + path
        if method == "GET":
            url, data = f"{url}?{data.decode()}", None
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": content_type} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None

    def token(self, serial: str) -> Token:
        return stored_token(self.config, serial)


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[Server]:
    data = daemon_config(tmp_path, database={"url": db_url})
    config = write_config(tmp_path, data)
    provision_hotp_people(config, tmp_path / "passwd")
    with serving(tmp_path, data, config) as running:
        yield running


@contextlib.contextmanager
def serving(tmp_path: Path, data: dict[str, Any], config: Path) -> Iterator[Server]:
    """A provisioned store served by a tesserad process, stopped afterwards."""
    daemon = DaemonProcess(tmp_path / "run", config).start()
    port = data["web"]["listen"][0].split(":")[1]
    try:
        yield Server(f"http://127.0.0.1:{port}", config, daemon)
    finally:
        daemon.stop()
        daemon.close()


def test_hotp_vectors_and_envelope(server: Server) -> None:
    for value in RFC4226:
        status, body = server.call("/validate/check", {"user": "alice", "pass": "1234" + value})
        assert status == 200
        assert body["jsonrpc"] == "2.0" and body["id"] == 2 and "time" in body and "version" in body
        assert body["result"] == {"status": True, "value": True, "authentication": "ACCEPT"}
        assert body["detail"] == {"message": "matching 1 tokens", "serial": "HOTP1", "type": "hotp", "otplen": 6}
    status, body = server.call("/validate/check", {"user": "alice", "pass": "1234" + RFC4226[0]}, method="GET")
    assert body["result"] == {"status": True, "value": False, "authentication": "REJECT"}
    assert body["detail"]["message"] == "wrong otp pin or otp value. previous otp used again"
    # The access log names the path of that GET, never its query string with the password.
    assert "GET /validate/check HTTP/1.1" in server.daemon.stderr
    assert RFC4226[0] not in server.daemon.stderr


def test_challenge_response_over_http(server: Server) -> None:
    # No challenge without a policy: for bob the PIN alone is a wrong PIN+OTP.
    status, body = server.call("/validate/check", {"user": "bob", "pass": "1234"})
    assert body["detail"]["message"] == "wrong otp pin or otp value"
    # The policy for carol turns her PIN alone into a challenge.
    status, body = server.call("/validate/check", {"user": "carol", "pass": "5678"})
    assert body["result"] == {"status": True, "value": False, "authentication": "CHALLENGE"}
    tid = body["detail"]["transaction_id"]
    assert body["detail"]["multi_challenge"][0]["serial"] == "HOTP3"
    status, body = server.call("/validate/check", {"user": "carol", "pass": RFC4226[0], "transaction_id": tid})
    assert body["result"]["authentication"] == "ACCEPT"
    status, body = server.call("/validate/check", {"user": "carol", "pass": RFC4226[1], "transaction_id": tid})
    assert body["result"]["authentication"] == "REJECT"


def test_errors_are_precise_and_change_nothing(server: Server) -> None:
    before = server.token("HOTP1")
    cases = [
        ({"user": "alice"}, 400, 905, "missing parameter: pass"),
        ({"user": "mallory", "pass": "1"}, 400, 904, "can not be found"),
        ({"user": "alice", "realm": "nowhere", "pass": "1"}, 400, 904, "realm"),
        ({"serial": "NOSUCH", "pass": "1"}, 404, 601, "does not exist"),
        ({"user": "alice", "pass": "1" * 5000}, 400, 905, "pass is longer"),
    ]
    for params, status, code, text in cases:
        got_status, body = server.call("/validate/check", params)
        assert got_status == status, (params, body)
        assert body["result"]["status"] is False and body["result"]["error"]["code"] == code
        assert text in body["result"]["error"]["message"]
    status, body = server.call("/validate/check", body=b"user=alice&pass=\xff\xfe")
    assert status == 400 and "UTF-8" in body["result"]["error"]["message"]
    status, body = server.call("/validate/check", body=b"{not json", content_type="application/json")
    assert status == 400 and "JSON" in body["result"]["error"]["message"]
    huge = urllib.parse.urlencode({"user": "alice", "pass": "1" * (10 * 1024 * 1024)}).encode()
    status, body = server.call("/validate/check", body=huge)
    assert status == 400 and body["result"]["status"] is False
    after = server.token("HOTP1")
    assert (after.count, after.failcount, after.count_auth) == (before.count, before.failcount, before.count_auth)
    log = server.daemon.stderr
    assert "1234" + RFC4226[0] not in log


def test_radiuscheck_and_polltransaction(server: Server) -> None:
    status, _ = server.call("/validate/radiuscheck", {"user": "bob", "pass": "1234" + RFC4226[0]})
    assert status == 204
    status, _ = server.call("/validate/radiuscheck", {"user": "bob", "pass": "1234" + RFC4226[0]})
    assert status == 400
    status, body = server.call("/validate/polltransaction", {"transaction_id": "12345678901234567890"},
                               method="GET")
    assert status == 200 and body["result"]["value"] is False


def test_samlcheck_returns_attributes_on_success(server: Server) -> None:
    status, body = server.call("/validate/samlcheck", {"user": "bob", "pass": "1234" + RFC4226[0]})
    value = body["result"]["value"]
    assert value["auth"] is True
    assert value["attributes"]["username"] == "bob" and value["attributes"]["realm"] == "example"
    status, body = server.call("/validate/samlcheck", {"user": "bob", "pass": "1234" + RFC4226[0]})
    assert body["result"]["value"] == {"auth": False, "attributes": {}}


def test_fifty_concurrent_requests_with_one_otp(server: Server) -> None:
    start = threading.Barrier(50)

    def attempt(_: int) -> bool:
        start.wait()
        status, body = server.call("/validate/check", {"user": "alice", "pass": "1234" + RFC4226[0]})
        assert status == 200
        return body["result"]["value"]

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, range(50)))
    assert results.count(True) == 1
    token = server.token("HOTP1")
    assert token.count == 1 and token.failcount == min(49, token.maxfail)
