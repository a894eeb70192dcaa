"""The outbox transport of kind ``fcm`` (trial runs the reactor) against the fake Google of
tests/fcm/fake_google.py on loopback (the real token endpoint and FCM cannot be reached from
here): the JWT assertion verifies with the service account's public key, the access token
is fetched once and kept, and each answer of Google is a sent message, a retry or the end."""

from __future__ import annotations

import tempfile
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.defer import gatherResults
from twisted.trial.unittest import TestCase

from tesserad.core.errors import DeliveryError
from tesserad.core.outbox import Outgoing
from tesserad.core.sms import fcm
from tesserad.core.sms.providers.base import GatewayConfig
from tesserad.core.sms.providers.firebase import FcmSettings, FirebaseProvider
from tesserad.daemon.outbox.fcm import FcmTransport

from tests.fcm.fake_google import CLIENT_EMAIL, KEY_ID, SCOPE, FakeGoogle, fake_google
from tests.helpers import free_port

DATA = {"nonce": "NONCE", "question": "Log in to VPN?", "serial": "PIPU0001", "title": "ACME", "sslverify": "1",
        "url": "https://mfa.example.org/ttype/push", "signature": "SIG"}
DEVICE = "fcm-device-token-1"


class FcmTransportTests(TestCase):
    def setUp(self) -> None:
        context = fake_google()
        self.google: FakeGoogle = context.__enter__()
        self.addCleanup(context.__exit__, None, None, None)
        self.account = self.google.service_account(Path(tempfile.mkdtemp()) / "service-account.json")
        self.settings = self.settings_for(self.google.base)
        self.transport = FcmTransport(reactor)

    def settings_for(self, fcm_url: str) -> FcmSettings:
        return FirebaseProvider().settings(GatewayConfig("fb1", FirebaseProvider.module, {
            "JSON config file": str(self.account), "FCM_URL": fcm_url}, {}))

    def message(self, number: int = 1) -> Outgoing:
        return Outgoing(number, "fcm:fb1", "PIPU0001", {**DATA, fcm.FBTOKEN: DEVICE}, 1, "lease", self.settings,
                        "PIPU0001", "T1")

    async def failure(self, message: Outgoing | None = None) -> DeliveryError:
        try:
            await self.transport.send(message or self.message())
        except DeliveryError as exc:
            return exc
        raise AssertionError("the message was delivered")

    async def test_the_message_reaches_fcm_with_a_signed_assertion(self) -> None:
        await self.transport.send(self.message())
        await self.transport.send(self.message(2))
        [(header, claims)] = self.google.assertions  # verified by the fake with the public key
        assert header["alg"] == "RS256" and header["kid"] == KEY_ID
        assert (claims["iss"], claims["aud"], claims["scope"]) == (CLIENT_EMAIL, self.google.token_uri, SCOPE)
        assert claims["exp"] - claims["iat"] == 3600
        first, second = self.google.messages
        assert first["token"] == DEVICE and first["data"] == DATA and second == first
        assert first["notification"] == {"title": "ACME", "body": "Log in to VPN?"}
        assert first["android"]["priority"] == "HIGH"
        assert first["apns"]["payload"]["aps"]["category"] == "PUSH_AUTHENTICATION"
        assert self.google.bearers == self.google.issued * 2  # one access token for both

    async def test_messages_waiting_together_share_one_token_request(self) -> None:
        await gatherResults([self.transport.send(self.message(n)) for n in range(5)])
        assert len(self.google.assertions) == 1 and len(self.google.messages) == 5

    async def test_a_token_about_to_expire_is_renewed(self) -> None:
        self.google.expires_in = 60  # within the renewal margin: each send needs a new one
        await self.transport.send(self.message())
        await self.transport.send(self.message(2))
        assert len(self.google.assertions) == 2 and len(set(self.google.bearers)) == 2

    async def test_a_refused_account_fails_for_good(self) -> None:
        self.google.token_status = 401
        failed = await self.failure()
        assert failed.permanent and str(failed) == "the token endpoint answered 401 invalid_client"
        assert self.google.messages == []

    async def test_a_token_endpoint_that_is_down_is_retried(self) -> None:
        self.google.token_status = 503
        failed = await self.failure()
        assert not failed.permanent and "503" in str(failed)

    async def test_fcm_errors(self) -> None:
        for status, permanent, reason in ((500, False, "FCM answered 500 INTERNAL"),
                                          (503, False, "FCM answered 503 UNAVAILABLE"),
                                          (429, False, "FCM answered 429 QUOTA_EXCEEDED"),
                                          (404, True, "FCM answered 404 UNREGISTERED"),
                                          (400, True, "FCM answered 400 INVALID_ARGUMENT")):
            self.google.fcm_status = status
            failed = await self.failure()
            assert (failed.permanent, str(failed)) == (permanent, reason)
            assert DEVICE not in str(failed) and "SIG" not in str(failed)

    async def test_a_revoked_access_token_is_fetched_again(self) -> None:
        await self.transport.send(self.message())
        self.google.revoke()
        failed = await self.failure()
        assert not failed.permanent and str(failed) == "FCM answered 401 UNAUTHENTICATED"
        await self.transport.send(self.message())
        assert len(self.google.assertions) == 2 and len(self.google.messages) == 2

    async def test_an_unreachable_fcm_is_retried(self) -> None:
        message = Outgoing(1, "fcm:fb1", "PIPU0001", {**DATA, fcm.FBTOKEN: DEVICE}, 1, "lease",
                           self.settings_for(f"http://127.0.0.1:{free_port()}"))
        failed = await self.failure(message)
        assert not failed.permanent and str(failed) == "FCM could not be reached: ConnectionRefusedError"
