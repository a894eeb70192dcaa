"""Hostile input through the real site (issue 26): every input is a 4xx with a precise
905 message (or, for /validate/check, a normal answer), an audit row, and no traceback
in the log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from twisted.logger import ILogObserver, formatEvent, globalLogPublisher
from zope.interface import provider

from tesserad.admin_web.bodies import MAX_BODY, MAX_FIELDS
from tesserad.admin_web.ui.app import STATIC
from tesserad.core.store.models import AuditEntry

from tests.http.restapi import Api, resolved

MULTIPART = "multipart/form-data; boundary=xyz"


def tiny_parts(count: int) -> bytes:
    part = b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n'
    return part * count + b"--xyz--\r\n"


@pytest.fixture
def log_events() -> Iterator[list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []

    @provider(ILogObserver)
    def observe(event: dict[str, Any]) -> None:
        events.append(event)
    globalLogPublisher.addObserver(observe)
    yield events
    globalLogPublisher.removeObserver(observe)


def tracebacks(events: list[dict[str, Any]]) -> list[str]:
    return [str(event.get("log_format")) for event in events if "log_failure" in event]


def refusal_lines(events: list[dict[str, Any]]) -> list[str]:
    return [formatEvent(event) for event in events if " refused: " in str(event.get("log_format"))]


def audit_rows(api: Api, action: str) -> list[AuditEntry]:
    with api.core.database.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


JSON = {"Content-Type": "application/json"}
# (what, body, content type, the message's words)
HOSTILE = [
    ("17,000 tiny parts", tiny_parts(17_000), MULTIPART, f"more than {MAX_FIELDS} parameters"),
    ("deep nesting", b'{"user":' + b"[" * 100_000 + b"]" * 100_000 + b', "pass": "x"}', "application/json",
     "values"),
    ("moderate nesting", b'{"user":' + b"[" * 500 + b"]" * 500 + b', "pass": "x"}', "application/json",
     "nests deeper than"),
    ("a lone surrogate", b'{"user":"\\ud800","pass":"x"}', "application/json", "parameter user is not valid Unicode"),
    ("a surrogate name", b'{"\\udc00":"x","pass":"x"}', "application/json", "not valid Unicode"),
    ("100k digits", b'{"user":"a","pass":' + b"1" * 100_000 + b"}", "application/json", "too many digits"),
    ("not UTF-8 JSON", b'{"user":"\xff","pass":"x"}', "application/json", "not valid UTF-8 JSON"),
    ("not UTF-8 form", b"user=%ff&pass=x", "application/x-www-form-urlencoded", "must be UTF-8"),
    ("lone percents", b"pass=" + b"%" * 10_000, "application/x-www-form-urlencoded", "malformed percent escapes"),
    ("too many fields", b"&".join(b"f%d=1" % i for i in range(MAX_FIELDS + 1)), "application/x-www-form-urlencoded",
     f"more than {MAX_FIELDS} parameters"),
    ("too large", b"pass=" + b"x" * MAX_BODY, "application/x-www-form-urlencoded", "larger than"),
    ("truncated multipart", b'--xyz\r\nContent-Disposition: form-data; name="pass"\r\n\r\nx', MULTIPART,
     "multipart/form-data body is malformed"),
    ("non-UTF-8 part", b'--xyz\r\nContent-Disposition: form-data; name="pass"\r\n\r\n\xff\r\n--xyz--\r\n', MULTIPART,
     "parameter pass must be UTF-8"),
]


@pytest.mark.parametrize("what, body, content_type, message", HOSTILE, ids=[case[0] for case in HOSTILE])
@pytest.mark.parametrize("path, action", [("/validate/check", "POST /validate/check"), ("/auth", "POST /auth")])
def test_hostile_body_is_a_905_with_an_audit_row(api: Api, log_events: list[dict[str, Any]], path: str, action: str,
                                                  what: str, body: bytes, content_type: str, message: str) -> None:
    status, answer = api.call("POST", path, raw=body, headers={"Content-Type": content_type, "User-Agent": "hostile"})
    assert status == 400, answer
    assert answer["result"]["error"]["code"] == 905
    assert message in answer["result"]["error"]["message"]
    (row,) = audit_rows(api, action)
    assert row.success is False and message in row.info and row.user_agent == "hostile"
    assert api.ctx.auditor.verify(row)
    assert tracebacks(log_events) == []
    assert refusal_lines(log_events) == [f"POST {path} refused: {row.info}"]


def test_a_lone_surrogate_in_the_query_string_is_refused(api: Api, log_events: list[dict[str, Any]]) -> None:
    status, answer = api.call("GET", "/validate/check?user=%ED%A0%80&pass=x")
    assert (status, answer["result"]["error"]["code"]) == (400, 905)
    assert len(audit_rows(api, "GET /validate/check")) == 1
    assert tracebacks(log_events) == []


def test_a_missing_password_is_audited(api: Api) -> None:
    status, answer = api.call("POST", "/validate/check", params={"user": "alice"})
    assert (status, answer["result"]["error"]["message"]) == (400, "ERR905: missing parameter: pass")
    (row,) = audit_rows(api, "POST /validate/check")
    assert row.info == "missing parameter: pass"


def test_control_characters_reach_the_audit_escaped(api: Api) -> None:
    status, answer = api.call("POST", "/validate/check", body={"user": "al\x7fice\x1b[31m", "pass": "x"})
    assert status == 400 and answer["result"]["error"]["code"] == 904  # no such user
    (row,) = audit_rows(api, "POST /validate/check")
    assert row.user == "al\\x7fice\\x1b[31m"


def test_a_nul_in_a_name_is_refused_and_audited(api: Api) -> None:
    status, answer = api.call("POST", "/validate/check", body={"user": "al\x00ice", "pass": "x"})
    assert (status, answer["result"]["error"]["code"]) == (400, 905)
    (row,) = audit_rows(api, "POST /validate/check")
    assert "contains NUL" in row.info


def test_well_formed_multipart_and_json_still_work(api: Api) -> None:
    admin = api.admin()
    body = (b'--xyz\r\nContent-Disposition: form-data; name="resolvers"\r\n\r\nfiles\r\n'
            b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n\xc3\xa9\r\n--xyz--\r\n')
    status, answer = api.call("POST", "/realm/staff", admin, raw=body, headers={"Content-Type": MULTIPART})
    assert status == 200, answer
    status, answer = api.call("POST", "/realm/staff2", admin, body={"resolvers": ["files"], "nested": [[[1]]]})
    assert status == 200, answer


def get(api: Api, path: str, headers: dict[str, Any] | None = None) -> tuple[int, bytes]:
    """A request whose answer may not be JSON (a file is served by the real daemon's test)."""
    response = resolved(api.http.request("GET", f"http://localhost{path}", headers=headers))
    return response.code, resolved(response.content())


@pytest.mark.parametrize("path", ["/static/js", "/static/js/", "/static/nosuch.css", "/static/", "/static/js/%0a.js"])
def test_a_static_path_that_is_no_plain_file_is_a_404(api: Api, path: str) -> None:
    assert get(api, path)[0] == 404


@pytest.mark.parametrize("path", ["/static/js%00.js", "/static/%2e%2e/templates/login.html",
                                  "/static/js%2f..%2f..%2fapp.py", "/static/js/%1b.js", "/static/js/%5c..%5capp.py"])
def test_a_static_path_that_names_no_file_is_a_404_with_an_audit_row(api: Api, log_events: list[dict[str, Any]],
                                                                     path: str) -> None:
    assert get(api, path, {"User-Agent": "hostile"})[0] == 404
    (row,) = audit_rows(api, f"GET {path}")
    assert row.user_agent == "hostile" and row.success is False and "static file name" in row.info
    assert tracebacks(log_events) == []
    assert refusal_lines(log_events) == [f"GET {path} refused: {row.info}"]


def test_a_symbolic_link_out_of_the_static_directory_is_a_404(api: Api, tmp_path: Path) -> None:
    link = STATIC / "js" / f"link-{tmp_path.name}.js"
    try:
        link.symlink_to(Path(__file__))
    except OSError as exc:
        pytest.skip(f"the static directory is read-only here: {exc}")
    try:
        assert get(api, f"/static/js/{link.name}")[0] == 404
    finally:
        link.unlink()


@pytest.mark.parametrize("path", ["/realm/%ff", "/token/%ff%fe", "/ui/%ff", "/validate/%ff", "/static/js/%ff.js",
                                  "/realm/%ED%A0%80"])
def test_a_url_that_is_not_utf8_is_a_400_with_an_audit_row(api: Api, log_events: list[dict[str, Any]],
                                                           path: str) -> None:
    status, content = get(api, path, {"User-Agent": "hostile"})
    assert status == 400
    assert json.loads(content)["result"]["error"] == {"code": 905,
                                                      "message": "ERR905: the URL's path or host name is not UTF-8"}
    (row,) = audit_rows(api, f"GET {path}")
    assert row.user_agent == "hostile" and row.success is False
    assert tracebacks(log_events) == []
    assert refusal_lines(log_events) == [f"GET {path} refused: the URL's path or host name is not UTF-8"]


@pytest.mark.parametrize("method, path", [("GET", "/token/challenges/a%00b"), ("POST", "/realm/a%00b"),
                                          ("POST", "/realm/a%1bb")])
def test_a_control_character_in_a_path_parameter_is_a_905(api: Api, log_events: list[dict[str, Any]],
                                                          method: str, path: str) -> None:
    status, answer = api.call(method, path, api.admin(), {"resolvers": "files"})
    assert (status, answer["result"]["error"]["code"]) == (400, 905), answer
    assert "control character" in answer["result"]["error"]["message"]
    assert tracebacks(log_events) == []


def test_a_host_name_that_is_not_utf8_is_a_400(api: Api, log_events: list[dict[str, Any]]) -> None:
    status, content = get(api, "/healthz", {"Host": b"\xff.example"})
    assert status == 400 and "host name is not UTF-8" in json.loads(content)["result"]["error"]["message"]
    assert tracebacks(log_events) == []


def test_the_audit_stores_lone_surrogates_and_control_characters_escaped(api: Api) -> None:
    with api.core.database.session() as session:
        api.ctx.auditor.record(session, action="POST /validate/check", success=False, user="a\ud800b\x00",
                               info="x\udfff\x1b", user_agent="\x7f")
        session.commit()
    (row,) = audit_rows(api, "POST /validate/check")
    assert (row.user, row.info, row.user_agent) == ("a\\ud800b\\x00", "x\\udfff\\x1b", "\\x7f")
    assert api.ctx.auditor.verify(row)
