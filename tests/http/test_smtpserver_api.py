"""/smtpserver/ in memory: definitions as privacyIDEA 3.8 shapes them (the password
write-only and stored encrypted), send_test_email queueing a test mail in the outbox, bad
input refused with nothing changed, and the admin rights smtpserver_read/_write."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tesserad.core.store.models import OutboxMessage, SMTPServer

from tests.http.restapi import Api
from tests.http.test_token_api import error, ok

PASSWORD = "Smtp-secret-31"
DEFINITION = {"server": "mail.example.org", "sender": "otp@example.org", "username": "mailer",
              "password": PASSWORD, "tls": "1", "description": "relay"}


def definitions(api: Api, token: str) -> dict[str, Any]:
    return ok(api.call("GET", "/smtpserver/", token))


def test_define_list_update_and_delete(api: Api) -> None:
    admin = api.admin()
    sid = ok(api.call("POST", "/smtpserver/mail1", admin, DEFINITION))
    assert isinstance(sid, int)
    assert definitions(api, admin) == {"mail1": {
        "server": "mail.example.org", "port": 25, "sender": "otp@example.org", "username": "mailer", "tls": True,
        "implicit_tls": False, "timeout": 10, "enqueue_job": False, "description": "relay"}}
    with api.core.database.session() as session:
        stored = session.scalars(select(SMTPServer)).one().password_enc
    assert stored is not None and PASSWORD.encode() not in stored
    # An update without a password keeps the stored one.
    changed = {"server": "192.0.2.25", "sender": "mfa@example.org", "implicit_tls": "true", "timeout": "3"}
    assert ok(api.call("POST", "/smtpserver/mail1", admin, changed)) == sid
    assert definitions(api, admin)["mail1"] == {
        "server": "192.0.2.25", "port": 465, "sender": "mfa@example.org", "username": "", "tls": False,
        "implicit_tls": True, "timeout": 3, "enqueue_job": False, "description": ""}
    with api.core.database.session() as session:
        assert session.scalars(select(SMTPServer)).one().password_enc == stored
    assert PASSWORD not in str(api.call("GET", "/smtpserver/", admin)[1])
    assert ok(api.call("DELETE", "/smtpserver/mail1", admin)) is True
    assert definitions(api, admin) == {}
    assert error(api.call("DELETE", "/smtpserver/mail1", admin)) == (404, 601)


@pytest.mark.parametrize("params", [
    {"sender": "a@example.org"}, {"server": "h"}, {"server": "h", "sender": "no-address"},
    {"server": "h", "sender": "a@example.org\r\nBcc: eve@example.org"}, {"server": "h", "sender": "a@b", "port": "0"},
    {"server": "h", "sender": "a@b", "port": "x"}, {"server": "h", "sender": "a@b", "timeout": "0"},
    {"server": "h", "sender": "a@b", "tls": "1", "implicit_tls": "1"}, {"server": "h h", "sender": "a@b"},
    {"server": "h", "sender": "a@b", "tls": "maybe"}])
def test_bad_definitions_are_refused(api: Api, params: dict[str, str]) -> None:
    admin = api.admin()
    assert error(api.call("POST", "/smtpserver/mail1", admin, params)) == (400, 905)
    assert definitions(api, admin) == {}


def _queued(api: Api) -> list[tuple[str, str, int]]:
    with api.core.database.session() as session:
        return [(m.channel, m.recipient, m.max_attempts) for m in session.scalars(select(OutboxMessage))]


def test_send_test_email_queues_one_attempt_through_the_definition(api: Api) -> None:
    admin = api.admin()
    ok(api.call("POST", "/smtpserver/mail1", admin, DEFINITION))
    status, body = api.call("POST", "/smtpserver/send_test_email", admin,
                            {"identifier": "mail1", "recipient": "carol@example.org"})
    assert status == 200 and body["result"]["value"] is True
    assert isinstance(body["detail"]["message_id"], int)
    assert _queued(api) == [("smtp:mail1", "carol@example.org", 1)]


@pytest.mark.parametrize(("params", "expected"), [
    ({"identifier": "nope", "recipient": "carol@example.org"}, (404, 601)),
    ({"identifier": "mail1", "recipient": "carol@example.org, eve@example.org"}, (400, 905)),
    ({"identifier": "mail1"}, (400, 905)), ({"recipient": "carol@example.org"}, (400, 905))])
def test_bad_test_emails_are_refused_and_queue_nothing(api: Api, params: dict[str, str],
                                                       expected: tuple[int, int]) -> None:
    admin = api.admin()
    ok(api.call("POST", "/smtpserver/mail1", admin, DEFINITION))
    assert error(api.call("POST", "/smtpserver/send_test_email", admin, params)) == expected
    with api.core.database.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.policy_action("admin", "smtpserver_read")
@pytest.mark.policy_action("admin", "smtpserver_write")
def test_each_right_opens_its_calls_only(api: Api) -> None:
    admin, other = api.admin(), api.admin("other")
    ok(api.call("POST", "/smtpserver/mail1", admin, DEFINITION))
    api.policy("others", scope="admin", action="tokenlist", adminuser="other")
    api.policy("root", scope="admin", action="tokenlist", adminuser="admin")
    writes = (("POST", "/smtpserver/new", {"server": "h", "sender": "a@b"}), ("DELETE", "/smtpserver/mail1", {}),
              ("POST", "/smtpserver/send_test_email", {"identifier": "mail1", "recipient": "c@example.org"}))
    for method, path, params in (("GET", "/smtpserver/", {}), *writes):
        assert error(api.call(method, path, other, params)) == (403, 303)
    api.policy("others", scope="admin", action="smtpserver_read", adminuser="other")
    assert list(definitions(api, other)) == ["mail1"]
    for method, path, params in writes:
        assert error(api.call(method, path, other, params)) == (403, 303)
    api.policy("others", scope="admin", action="smtpserver_write", adminuser="other")
    assert isinstance(ok(api.call("POST", "/smtpserver/new", other, {"server": "h", "sender": "a@b"})), int)
    assert ok(api.call("POST", "/smtpserver/send_test_email", other,
                       {"identifier": "new", "recipient": "c@example.org"})) is True
    assert ok(api.call("DELETE", "/smtpserver/new", other)) is True
    assert error(api.call("GET", "/smtpserver/", other)) == (403, 303)
    # An admin bound to a realm does not reach definitions, which belong to no realm.
    api.policy("root", scope="admin", action="smtpserver_read, smtpserver_write", adminuser="admin",
               realm="example")
    for method, path, params in (("GET", "/smtpserver/", {}), *writes):
        assert error(api.call(method, path, admin, params)) == (403, 303)
