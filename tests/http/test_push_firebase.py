"""The push token with a Firebase definition, through HTTP: each challenge queues the signed
data for the device's Firebase token in the outbox (what the fcm transport posts to FCM is
built from it and read by the push client of tests/push_app.py, which approves with it),
polling stays available, the app renews its Firebase token signed, and a gateway whose last
attempt failed shows in the challenge message as privacyIDEA words it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tesserad.core.clock import utc_datetime
from tesserad.core.errors import DeliveryError
from tesserad.core.outbox import Outgoing
from tesserad.core.sms import fcm, gateways
from tesserad.core.sms.providers.firebase import FirebaseProvider
from tesserad.core.tokens.push import NOT_SENT

from tests.fcm.fake_google import FakeGoogle
from tests.http.restapi import Api
from tests.http.test_push import URL, done, final, polled
from tests.push_app import PushApp

DEVICE = "fcm-device-token-alice-1"
QUESTION = "Do you want to confirm the login?"


@pytest.fixture
def firebase(api: Api, tmp_path: Path) -> Api:
    """A Firebase definition ``fb1`` and the enrollment policy that chooses it."""
    account = FakeGoogle().service_account(tmp_path / "service-account.json")
    with api.core.database.session() as session:
        gateways.save(session, api.core.tokens.security, "fb1", module=FirebaseProvider.module, description="push",
                      options={"JSON config file": str(account)}, headers={})
        session.commit()
    api.policy("push", scope="enrollment", action=f"push_registration_url={URL}, push_firebase_configuration=fb1")
    return api


def enrolled(api: Api, fbtoken: str = DEVICE) -> PushApp:
    status, body = api.call("POST", "/token/init", api.admin(), {"type": "push", "genkey": "1", "user": "alice",
                                                                 "pin": "1"})
    assert status == 200, body
    app = PushApp(lambda method, path, params: api.call(method, path, None, params), fbtoken=fbtoken)
    assert app.register(body["detail"]["pushurl"]["value"])[0] == 200
    return app


def challenged(api: Api) -> dict[str, Any]:
    status, body = api.call("POST", "/validate/check", None, {"user": "alice", "pass": "1"})
    assert status == 200 and body["result"]["authentication"] == "CHALLENGE", body
    return dict(body["detail"])


def queued(api: Api) -> list[Outgoing]:
    with api.core.database.session() as session:
        return api.core.outbox.claim(session, 10)


def pushed(api: Api, message: Outgoing) -> dict[str, Any]:
    """The FCM message the transport posts for ``message``."""
    return dict(fcm.request_body(message.payload, api.core.clock.now())["message"])


@pytest.mark.policy_action("enrollment", "push_firebase_configuration")
def test_a_challenge_notifies_the_app_through_firebase(firebase: Api) -> None:
    api = firebase
    app = enrolled(api)
    info = api.call("GET", "/token/", api.admin(), {"serial": app.serial})[1]["result"]["value"]["tokens"][0]["info"]
    assert info["push_firebase_configuration"] == "fb1" and info["firebase_token"] == DEVICE
    detail = challenged(api)
    assert detail["message"] == QUESTION
    [message] = queued(api)
    assert (message.channel, message.recipient, message.serial) == ("fcm:fb1", app.serial, app.serial)
    assert message.transaction_id == detail["transaction_id"]
    data = app.receive(pushed(api, message))  # addressed to the device, signature checked
    assert (data["question"], data["url"], data["sslverify"]) == (QUESTION, URL, "1")
    assert [p["nonce"] for p in polled(api, app)] == [data["nonce"]]  # polling still sees it
    assert app.answer(data["nonce"])[0] == 200
    assert done(api, detail["transaction_id"]) and final(api, detail["transaction_id"])


def test_an_unknown_firebase_configuration_is_refused(api: Api) -> None:
    api.policy("push", scope="enrollment", action=f"push_registration_url={URL}, push_firebase_configuration=fb1")
    status, body = api.call("POST", "/token/init", api.admin(), {"type": "push", "genkey": "1", "user": "alice"})
    assert status == 400 and "Unknown Firebase configuration 'fb1'" in body["result"]["error"]["message"]


def test_poll_only_queues_nothing(api: Api) -> None:
    api.policy("push", scope="enrollment", action=f"push_registration_url={URL}, push_firebase_configuration=poll only")
    app = enrolled(api)
    assert challenged(api)["message"] == QUESTION
    assert queued(api) == [] and len(polled(api, app)) == 1


def test_the_app_renews_its_firebase_token(firebase: Api) -> None:
    api = firebase
    app = enrolled(api)
    now = utc_datetime(api.core.clock)
    stranger = PushApp(app.send).key
    status, body = app.renew_fbtoken("stolen", now, key=stranger)
    assert status == 400 and body["result"]["error"]["message"].endswith("Could not verify signature!")
    status, body = app.renew_fbtoken("late", now - timedelta(minutes=6))
    assert status == 400 and "not in valid range" in body["result"]["error"]["message"]
    status, body = app.send("POST", "/ttype/push", {"serial": "PIPU404", "new_fb_token": "x",
                                                    "timestamp": now.isoformat(), "signature": "AAAA"})
    assert status == 400 and body["result"]["error"]["message"].endswith("Could not verify signature!")
    status, body = app.renew_fbtoken("fcm-device-token-alice-2", now - timedelta(minutes=4))
    assert status == 200 and body["result"]["value"] is True
    challenged(api)
    [message] = queued(api)
    assert app.receive(pushed(api, message))["serial"] == app.serial  # to the new token


def fail(api: Api, message: Outgoing, reason: str) -> None:
    with api.core.database.session() as session:
        api.core.outbox.failed(session, message, DeliveryError(reason, permanent=True))
        session.commit()


def test_a_failed_notification_shows_in_the_next_challenge_message(firebase: Api) -> None:
    api = firebase
    app = enrolled(api)
    with api.core.database.session() as session:  # another device, unregistered: not alice's
        api.core.outbox.enqueue(session, "fcm:fb1", "PIPU-OTHER", {fcm.FBTOKEN: "gone"})
        session.commit()
    fail(api, queued(api)[0], "FCM answered 404 UNREGISTERED")
    assert challenged(api)["message"] == QUESTION
    [message] = queued(api)
    fail(api, message, "FCM answered 404 UNREGISTERED")
    detail = challenged(api)
    assert detail["message"] == f"{QUESTION} {NOT_SENT}"
    assert detail["multi_challenge"][0]["message"] == f"{QUESTION} {NOT_SENT}"
    newest = polled(api, app)[-1]  # the app polls, as the message tells the user
    assert app.answer(newest["nonce"])[0] == 200 and final(api, detail["transaction_id"])


def test_an_app_without_a_firebase_token_is_told_to_poll(firebase: Api) -> None:
    api = firebase
    app = enrolled(api, fbtoken="")
    assert challenged(api)["message"] == f"{QUESTION} {NOT_SENT}"
    assert queued(api) == [] and len(polled(api, app)) == 1


def test_the_smsgateway_api_takes_firebase_definitions(api: Api, tmp_path: Path) -> None:
    account = FakeGoogle().service_account(tmp_path / "service-account.json")
    definition = {"name": "fb1", "module": FirebaseProvider.module, "option.JSON config file": str(account),
                  "option.apikey": "AIzaLegacy"}
    status, body = api.call("POST", "/smsgateway", api.admin(), {**definition, "option.projectid": "other"})
    assert status == 400 and "is not the project_id" in body["result"]["error"]["message"]
    status, body = api.call("POST", "/smsgateway", api.admin(), {**definition, "option.JSON config file": "/nowhere"})
    assert status == 400 and "cannot read the Firebase service-account file" in body["result"]["error"]["message"]
    assert api.call("POST", "/smsgateway", api.admin(), definition)[0] == 200
    [shown] = api.call("GET", "/smsgateway/", api.admin())[1]["result"]["value"]
    assert shown["options"] == {"JSON config file": str(account), "apikey": "__CENSORED__"}
