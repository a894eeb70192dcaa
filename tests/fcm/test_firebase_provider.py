"""The Firebase definition among the SMS gateways (privacyIDEA's FirebaseProvider): a
service-account file that cannot send is refused when the definition is saved, the options
of older privacyIDEA versions are kept, and the outbox's ``fcm`` loader turns a definition
that cannot send (any more) into a permanent failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tesserad.core.errors import DeliveryError
from tesserad.core.sms import fcm, gateways
from tesserad.core.sms.providers import provider
from tesserad.core.sms.providers.base import GatewayConfig
from tesserad.core.sms.providers.firebase import FirebaseProvider, read_service_account
from tesserad.core.tokens.base import ParameterError

from tests.fcm.fake_google import CLIENT_EMAIL, KEY_ID, PROJECT, FakeGoogle
from tests.wired import Core

FIREBASE = FirebaseProvider.module
LEGACY = {"registration URL": "https://pi.example.org/ttype/push", "time to live": "10", "projectnumber": "1234",
          "appid": "1:1234:android:ab", "apikey": "AIzaLegacy", "appidios": "1:1234:ios:cd", "apikeyios": "AIzaIos"}


@pytest.fixture
def google() -> FakeGoogle:
    return FakeGoogle()  # only its key and file: nothing is sent here


def test_a_service_account_file_is_read(google: FakeGoogle, tmp_path: Path) -> None:
    account = read_service_account(str(google.service_account(tmp_path / "sa.json")))
    assert (account.project_id, account.client_email, account.private_key_id) == (PROJECT, CLIENT_EMAIL, KEY_ID)
    assert account.token_uri == google.token_uri and account.private_key.key_size == 2048
    assert "PRIVATE" not in repr(account)


@pytest.mark.parametrize(("changes", "reason"), [
    ({"type": "authorized_user"}, "not a Firebase service-account file"),
    ({"client_email": ""}, "has no client_email"),
    ({"private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}, "no RSA private key"),
    ({"token_uri": "http://oauth.example.org/token"}, "https:// URL"),
])
def test_bad_service_account_files_are_refused(google: FakeGoogle, tmp_path: Path, changes: dict[str, str],
                                               reason: str) -> None:
    with pytest.raises(ParameterError, match=reason):
        read_service_account(str(google.service_account(tmp_path / "sa.json", **changes)))


def test_missing_and_malformed_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="cannot read"):
        read_service_account(str(tmp_path / "nowhere.json"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ParameterError, match="not a Firebase service-account file"):
        read_service_account(str(tmp_path / "bad.json"))


def test_settings_name_the_send_url(google: FakeGoogle, tmp_path: Path) -> None:
    path = str(google.service_account(tmp_path / "sa.json"))
    firebase = FirebaseProvider()
    default = firebase.settings(GatewayConfig("fb1", FIREBASE, {"JSON config file": path}, {}))
    assert default.send_url == f"https://fcm.googleapis.com/v1/projects/{PROJECT}/messages:send"
    assert default.timeout == 10
    local = firebase.settings(GatewayConfig("fb1", FIREBASE, {"JSON config file": path, "FCM_URL": google.base + "/",
                                                              "TIMEOUT": "3", "projectid": PROJECT, **LEGACY}, {}))
    assert local.send_url == f"{google.base}/v1/projects/{PROJECT}/messages:send" and local.timeout == 3


@pytest.mark.parametrize(("options", "reason"), [
    ({}, "missing parameter: option.JSON config file"),
    ({"httpsproxy": "http://proxy:3128"}, "does not send through a proxy"),
    ({"projectid": "another-project"}, "is not the project_id"),
    ({"FCM_URL": "http://fcm.example.org"}, "https:// URL"),
    ({"TIMEOUT": "0"}, "TIMEOUT"),
    ({"extra": "1"}, "takes no option extra"),
])
def test_bad_definitions_are_refused(google: FakeGoogle, tmp_path: Path, options: dict[str, str],
                                     reason: str) -> None:
    path = str(google.service_account(tmp_path / "sa.json"))
    with pytest.raises(ParameterError, match=reason):
        provider(FIREBASE).check({"JSON config file": path, **options} if options else {}, {})


def test_a_firebase_definition_sends_no_sms(google: FakeGoogle, tmp_path: Path) -> None:
    config = GatewayConfig("fb1", FIREBASE, {"JSON config file": str(google.service_account(tmp_path / "sa.json"))},
                           {})
    with pytest.raises(ParameterError, match="not SMS"):
        gateways.delivery(config, "+49 170 1234", "123456")


def test_a_saved_definition_keeps_legacy_options_and_loads(core: Core, google: FakeGoogle, tmp_path: Path) -> None:
    path = google.service_account(tmp_path / "sa.json")
    security = core.tokens.security
    with core.database.session() as session:
        gateways.save(session, security, "fb1", module=FIREBASE, description="push",
                      options={"JSON config file": str(path), "projectid": PROJECT, **LEGACY}, headers={})
        session.commit()
        [shown] = gateways.listed(session)
        assert shown["options"]["apikey"] == shown["options"]["apikeyios"] == "__CENSORED__"
        assert shown["options"]["registration URL"] == LEGACY["registration URL"]
        assert gateways.providers()[FIREBASE]["parameters"]["JSON config file"]["required"] is True
        settings = fcm.loaded(session, security, "fb1")
        assert settings.account.project_id == PROJECT and settings.identifier == "fb1"
        assert fcm.checked_configuration(session, "fb1") == "fb1"
        assert fcm.checked_configuration(session, "Poll Only") == fcm.POLL_ONLY
        path.write_text(json.dumps({"type": "service_account"}))  # the file broke after saving
        with pytest.raises(DeliveryError, match="cannot send: .*has no project_id") as broken:
            fcm.loaded(session, security, "fb1")
        assert broken.value.permanent
        with pytest.raises(DeliveryError, match="does not exist") as gone:
            fcm.loaded(session, security, "fb2")
        assert gone.value.permanent


def test_only_firebase_definitions_configure_push(core: Core) -> None:
    with core.database.session() as session:
        gateways.save(session, core.tokens.security, "gw1",
                      module="privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider", description="",
                      options={"URL": "https://sms.example.org/"}, headers={})
        for value in ("gw1", "fb9"):
            with pytest.raises(ParameterError, match="Unknown Firebase configuration"):
                fcm.checked_configuration(session, value)
        with pytest.raises(DeliveryError, match="no Firebase definition") as other:
            fcm.loaded(session, core.tokens.security, "gw1")
        assert other.value.permanent


def test_the_request_body_carries_the_data_for_the_app() -> None:
    body = fcm.request_body({"nonce": "N", "question": "Q?", "title": "T", fcm.FBTOKEN: "device"}, 1000.0)
    message = body["message"]
    assert message["token"] == "device" and message["data"] == {"nonce": "N", "question": "Q?", "title": "T"}
    assert message["notification"] == {"title": "T", "body": "Q?"}
    assert message["apns"]["headers"]["apns-expiration"] == "1120" and message["android"]["ttl"] == "120s"
