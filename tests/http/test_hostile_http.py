"""The hostile inputs of issue 26 against a real tesserad process: each is a 4xx with an
audit row, the daemon's log holds one line for it and no traceback, and the daemon
answers normally afterwards."""

from __future__ import annotations

import http.client
import urllib.parse

from tests.http.test_validate_http import Server, server  # noqa: F401  (a fixture)
from tests.provision import audit_rows
from tests.wired import RFC4226

TINY_PARTS = b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n' * 17_000 + b"--xyz--\r\n"
BODIES = [
    (TINY_PARTS, "multipart/form-data; boundary=xyz", "more than 200 parameters"),
    (b'{"user":' + b"[" * 200_000 + b"]" * 200_000 + b',"pass":"x"}', "application/json", "values"),
    (b'{"user":' + b"[" * 900 + b"]" * 900 + b',"pass":"x"}', "application/json", "nests deeper than 20"),
    (b'{"user":"\\ud800","pass":"x"}', "application/json", "parameter user is not valid Unicode"),
    (b'{"user":"alice","pass":' + b"9" * 100_000 + b"}", "application/json", "too many digits"),
]


def get(server: Server, path: str) -> tuple[int, bytes]:
    """A GET with the path sent as it is (urllib would quote it)."""
    address = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_hostile_requests_are_refused_audited_and_logged_once(server: Server) -> None:  # noqa: F811
    for body, content_type, message in BODIES:
        for path in ("/validate/check", "/auth"):
            status, answer = server.call(path, body=body, content_type=content_type)
            assert (status, answer["result"]["error"]["code"]) == (400, 905), (path, message)
            assert message in answer["result"]["error"]["message"]
    assert get(server, "/static/js%00.js")[0] == 404
    assert get(server, "/static/%2e%2e/templates/login.html")[0] == 404
    status, content = get(server, "/static/ui.css")
    assert status == 200 and content
    assert get(server, "/realm/%ff")[0] == 400

    refused = [row for row in audit_rows(server.config) if not row.success]
    assert sorted(row.action for row in refused) == sorted(
        ["POST /validate/check", "POST /auth"] * len(BODIES)
        + ["GET /static/js%00.js", "GET /static/%2e%2e/templates/login.html", "GET /realm/%ff"])
    assert {row.info for row in refused if row.action == "POST /validate/check"} >= {
        "more than 200 parameters", "the JSON body nests deeper than 20 levels"}
    log = server.daemon.stderr + server.daemon.stdout
    assert "Traceback" not in log and "Unhandled" not in log
    assert log.count(" refused: ") == 2 * len(BODIES) + 3

    status, answer = server.call("/validate/check", {"user": "alice", "pass": "1234" + RFC4226[0]})
    assert answer["result"]["authentication"] == "ACCEPT"
