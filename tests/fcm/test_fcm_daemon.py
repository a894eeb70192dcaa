"""Push through Firebase against a real tesserad process. Google cannot be reached from here,
so the service-account file and the Firebase definition point at the fake token endpoint and
FCM of tests/fcm/fake_google.py on loopback, which verify the JWT assertion and the bearer
token as Google does. The push client of tests/push_app.py reads the notification FCM
received, checks the server's signature and approves; the login then succeeds. Faults: FCM
answering 500 gets the message again, 404 (an unregistered device) and a refused service
account end it, each in the audit, and the next challenge tells the user to poll.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tesserad.core.context import Context
from tesserad.core.sms import gateways
from tesserad.core.sms.providers.firebase import FirebaseProvider
from tesserad.core.store.models import AuditEntry, OutboxMessage
from tesserad.core.tokens.push import NOT_SENT
from tesserad.daemon import config as configuration

from tests.fcm.fake_google import FakeGoogle, fake_google
from tests.helpers import daemon_config, write_config
from tests.http.test_validate_http import Server, serving
from tests.provision import add_admins, provision
from tests.push_app import PushApp
from tests.wired import PASSWD

URL = "https://mfa.example.org/ttype/push"
ADMIN_PASSWORD = "Push-admin-pw-1"
DEVICE = "fcm-device-token-of-alice"
QUESTION = "Do you want to confirm the login?"


@dataclass
class Push:
    server: Server
    google: FakeGoogle
    store: Context

    def enrolled(self) -> PushApp:
        status, body = self.server.call("/auth", {"username": "admin", "password": ADMIN_PASSWORD})
        assert status == 200, body
        init = urllib.request.Request(
            self.server.url + "/token/init", method="POST", headers={"Authorization": body["result"]["value"]["token"]},
            data=urllib.parse.urlencode({"type": "push", "genkey": "1", "user": "alice", "pin": "1"}).encode())
        with urllib.request.urlopen(init, timeout=30) as response:
            detail = json.loads(response.read())["detail"]
        app = PushApp(lambda method, path, params: self.server.call(path, params, method=method), fbtoken=DEVICE)
        assert app.register(detail["pushurl"]["value"])[0] == 200
        return app

    def challenge(self) -> dict[str, Any]:
        body = self.server.call("/validate/check", {"user": "alice", "pass": "1"})[1]
        assert body["result"]["authentication"] == "CHALLENGE", body
        return dict(body["detail"])

    def logs_in(self, transaction_id: str) -> bool:
        body = self.server.call("/validate/check", {"user": "alice", "pass": "", "transaction_id": transaction_id})[1]
        return bool(body["result"]["value"])

    def until(self, what: str, ready: Callable[[list[OutboxMessage]], bool]) -> list[OutboxMessage]:
        """The outbox once ``ready`` holds of it (the daemon settles a send in its own time)."""
        deadline = time.monotonic() + 15
        while True:
            with self.store.database.session() as session:
                rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
            if ready(rows):
                return rows
            assert time.monotonic() < deadline, f"the outbox never showed {what}: {rows}"

    def outcomes(self) -> list[str]:
        with self.store.database.session() as session:
            return [row.info or "" for row in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "OUTBOX send").order_by(AuditEntry.id))]


@pytest.fixture
def push(tmp_path: Path, db_url: str) -> Iterator[Push]:
    data = daemon_config(tmp_path, database={"url": db_url}, outbox={"poll_interval_ms": 50, "retry_delays": [1]})
    config = write_config(tmp_path, data)
    passwd = tmp_path / "passwd"
    passwd.write_text(PASSWD)
    provision(config, passwd, [], policies={"push": {
        "scope": "enrollment", "action": f"push_registration_url={URL}, push_firebase_configuration=fb1"}})
    add_admins(config, {"admin": ADMIN_PASSWORD})
    with fake_google() as google:
        store = Context.open(configuration.load(str(config), env={}))
        try:
            with store.database.session() as session:
                gateways.save(session, store.keys.security, "fb1", module=FirebaseProvider.module, description="",
                              options={"JSON config file": str(google.service_account(tmp_path / "account.json")),
                                       "FCM_URL": google.base}, headers={})
                session.commit()
            with serving(tmp_path, data, config) as server:
                yield Push(server, google, store)
        finally:
            store.close()


def test_the_app_is_notified_and_approves(push: Push) -> None:
    app = push.enrolled()
    detail = push.challenge()
    assert detail["message"] == QUESTION
    [message] = push.google.wait_for(1)
    data = app.receive(message)  # to this device, the server's signature checked
    assert app.answer(data["nonce"])[0] == 200
    assert push.logs_in(detail["transaction_id"])
    [sent] = push.until("the message sent", lambda rows: [r.state for r in rows] == ["sent"])
    assert (sent.channel, sent.recipient, sent.attempts) == ("fcm:fb1", app.serial, 1)
    assert push.outcomes() == [f"fcm:fb1 to {app.serial}: sent (attempt 1)"]
    [(_, claims)] = push.google.assertions
    assert claims["aud"] == push.google.token_uri
    assert DEVICE not in push.server.daemon.stderr and data["signature"] not in push.server.daemon.stderr


def test_fcm_answering_500_gets_the_message_again(push: Push) -> None:
    app = push.enrolled()
    push.google.fcm_status = 500
    detail = push.challenge()
    first = push.google.wait_for(1)[0]
    push.google.fcm_status = 200
    second = push.google.wait_for(2)[1]
    assert (second["token"], second["data"]) == (first["token"], first["data"])  # the same notification again
    assert app.answer(app.receive(second)["nonce"])[0] == 200 and push.logs_in(detail["transaction_id"])
    [sent] = push.until("the second attempt sent", lambda rows: [r.state for r in rows] == ["sent"])
    assert sent.attempts == 2
    assert push.outcomes() == [f"fcm:fb1 to {app.serial}: attempt 1 failed, retrying: FCM answered 500 INTERNAL",
                               f"fcm:fb1 to {app.serial}: sent (attempt 2)"]


def test_an_unregistered_device_ends_the_message_and_the_user_polls(push: Push) -> None:
    app = push.enrolled()
    push.google.fcm_status = 404
    push.challenge()
    push.until("the message given up", lambda rows: [r.state for r in rows] == ["failed"])
    assert push.outcomes() == [f"fcm:fb1 to {app.serial}: given up: FCM answered 404 UNREGISTERED"]
    detail = push.challenge()
    assert detail["message"] == f"{QUESTION} {NOT_SENT}"
    status, body = app.poll(datetime.now(UTC))
    newest = body["result"]["value"][-1]
    app.verify_challenge(newest)
    assert app.answer(newest["nonce"])[0] == 200 and push.logs_in(detail["transaction_id"])


def test_a_refused_service_account_ends_the_message(push: Push) -> None:
    app = push.enrolled()
    push.google.token_status = 401
    push.challenge()
    push.until("the message given up", lambda rows: [r.state for r in rows] == ["failed"])
    assert push.outcomes() == [f"fcm:fb1 to {app.serial}: given up: the token endpoint answered 401 invalid_client"]
    assert push.google.messages == [] and len(push.google.refused) == 0
