"""The provider modules build privacyIDEA's requests from a definition, a phone number and
a text; bad definitions are refused before anything is stored."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tesserad.core.sms.delivery import Command, HttpRequest, Mail
from tesserad.core.sms.gateways import delivery
from tesserad.core.sms.providers import PROVIDERS, provider
from tesserad.core.sms.providers.base import GatewayConfig
from tesserad.core.tokens.base import ParameterError

HTTP = "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider"
SIPGATE = "privacyidea.lib.smsprovider.SipgateSMSProvider.SipgateSMSProvider"
SCRIPT = "privacyidea.lib.smsprovider.ScriptSMSProvider.ScriptSMSProvider"
SMTP = "privacyidea.lib.smsprovider.SmtpSMSProvider.SmtpSMSProvider"
FIREBASE = "privacyidea.lib.smsprovider.FirebaseProvider.FirebaseProvider"


def built(module: str, options: dict[str, str], headers: dict[str, str] | None = None,
          phone: str = "0123456", message: str = "Your OTP 123456") -> object:
    return delivery(GatewayConfig("gw", module, options, headers or {}), phone, message)


def test_get_fills_the_tags_into_the_query() -> None:
    request = built(HTTP, {"URL": "https://sms.example/send", "RETURN_SUCCESS": "^ID",
                           "REGEXP": "/^0/0049/", "to": "{phone}", "text": "{otp}", "user": "me"},
                    {"X-Key": "k-{phone}"})
    assert isinstance(request, HttpRequest)
    assert request.method == "GET" and request.body is None and request.check_tls
    assert parse_qs(urlsplit(request.url).query) == {"to": ["0049123456"], "text": ["Your OTP 123456"],
                                                      "user": ["me"]}
    assert request.headers == (("X-Key", "k-0049123456"),)
    assert request.accepted(200, "ID 77") and not request.accepted(200, "ERR") and not request.accepted(500, "ID")


def test_post_as_form_or_json_with_fixed_parameters() -> None:
    options = {"URL": "http://gw.local/api", "HTTP_METHOD": "POST", "PARAMETER": '{"api_id": 7}',
               "Body": "{otp}", "To": "{phone}", "RETURN_FAIL": "error", "CHECK_SSL": "no", "TIMEOUT": "3"}
    form = built(HTTP, options)
    assert isinstance(form, HttpRequest)
    assert parse_qs((form.body or b"").decode()) == {"api_id": ["7"], "Body": ["Your OTP 123456"], "To": ["0123456"]}
    assert ("Content-Type", "application/x-www-form-urlencoded") in form.headers
    assert not form.check_tls and form.timeout == 3 and not form.accepted(200, "an error") and form.accepted(201, "")
    as_json = built(HTTP, {**options, "SEND_DATA_AS_JSON": "yes"})
    assert isinstance(as_json, HttpRequest)
    assert json.loads(as_json.body or b"") == {"api_id": "7", "Body": "Your OTP 123456", "To": "0123456"}


def test_braces_in_the_text_are_only_text() -> None:
    request = built(HTTP, {"URL": "http://gw.local/", "text": "{otp}"}, message="{phone} {0} {otp}")
    assert isinstance(request, HttpRequest)
    assert parse_qs(urlsplit(request.url).query)["text"] == ["{phone} {0} {otp}"]


def test_sipgate_calls_session_initiate() -> None:
    request = built(SIPGATE, {"USERNAME": "u", "PASSWORD": "p"}, phone="+49 (170) 1234", message="a<b")
    assert isinstance(request, HttpRequest)
    assert request.url == "https://samurai.sipgate.net/RPC2" and request.username == "u"
    assert b"samurai.SessionInitiate" in (request.body or b"") and b"sip:491701234@sipgate.net" in (request.body or b"")
    assert b"a&lt;b" in (request.body or b"")
    ok = ("<methodResponse><params><param><value><struct><member><name>StatusCode</name>"
          "<value><i4>200</i4></value></member></struct></value></param></params></methodResponse>")
    assert request.accepted(200, ok) and not request.accepted(200, ok.replace("200", "401"))


def test_script_gets_the_phone_as_argument_and_the_text_on_stdin() -> None:
    command = built(SCRIPT, {"SCRIPT": "send-sms.sh", "TIMEOUT": "2"})
    assert command == Command("send-sms.sh", ("0123456",), b"Your OTP 123456", 2.0)


@pytest.mark.parametrize(("module", "options", "headers"), [
    (HTTP, {}, {}),
    (HTTP, {"URL": "ftp://x/"}, {}),
    (HTTP, {"URL": "http://x/", "HTTP_METHOD": "PUT"}, {}),
    (HTTP, {"URL": "http://x/", "RETURN_SUCCESS": "("}, {}),
    (HTTP, {"URL": "http://x/", "REGEXP": "^0/0049"}, {}),
    (HTTP, {"URL": "http://x/", "PARAMETER": "[1]"}, {}),
    (HTTP, {"URL": "http://x/", "PARAMETER": '{"to": "1"}', "to": "{phone}"}, {}),
    (HTTP, {"URL": "http://x/", "TIMEOUT": "0"}, {}),
    (HTTP, {"URL": "http://x/"}, {"X-A": "a\r\nX-B: b"}),
    (SIPGATE, {"USERNAME": "u"}, {}),
    (SIPGATE, {"USERNAME": "u", "PASSWORD": "p", "extra": "1"}, {}),
    (SIPGATE, {"USERNAME": "u", "PASSWORD": "p"}, {"X-A": "1"}),
    (SCRIPT, {"SCRIPT": "../bin/sh"}, {}),
    (SCRIPT, {"SCRIPT": "-x"}, {}),
    (SCRIPT, {"SCRIPT": "s", "BACKGROUND": "background"}, {}),
])
def test_bad_definitions_are_refused(module: str, options: dict[str, str], headers: dict[str, str]) -> None:
    with pytest.raises(ParameterError):
        provider(module).check(options, headers)


def test_unknown_module_and_bad_phone_are_refused() -> None:
    with pytest.raises(ParameterError):
        provider("privacyidea.lib.smsprovider.SmppSMSProvider.SmppSMSProvider")
    with pytest.raises(ParameterError):
        built(SCRIPT, {"SCRIPT": "s"}, phone="-rf /")


def test_providers_are_described_as_privacyidea_does() -> None:
    shown = PROVIDERS[HTTP].shown()
    assert shown["options_allowed"] and shown["headers_allowed"]
    assert shown["parameters"]["URL"] == {"description": "The base URL of the HTTP gateway (http or https).",
                                          "required": True}
    assert shown["parameters"]["HTTP_METHOD"]["values"] == ["GET", "POST"]
    assert set(PROVIDERS) == {HTTP, SIPGATE, SCRIPT, SMTP, FIREBASE}


def test_smtp_mails_the_gateway_with_the_tags_filled_in() -> None:
    mail = built(SMTP, {"SMTPIDENTIFIED": "mail1", "MAILTO": "{phone}@sms.example.org"}, phone="+49 170 12")
    assert mail == Mail("mail1", "+4917012@sms.example.org", "+49 170 12", "Your OTP 123456")
    with pytest.raises(ParameterError):
        built(SMTP, {"SMTPIDENTIFIED": "mail1", "MAILTO": "a@b, c@d"})
    with pytest.raises(ParameterError):
        provider(SMTP).check({"MAILTO": "x@example.org"}, {})
