"""/smsgateway/ in memory: definitions as privacyIDEA 3.8 shapes them (secrets stored
encrypted and listed censored), the provider list, bad input refused with nothing stored,
and the admin rights smsgateway_read/_write (system-wide: only admins bound to no realm)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tesserad.core.errors import DeliveryError
from tesserad.core.sms import gateways
from tesserad.core.store.models import OutboxMessage, SMSGatewayOption, Token

from tests.http.restapi import Api
from tests.http.test_token_api import error, ok

HTTP = "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider"
SMTP = "privacyidea.lib.smsprovider.SmtpSMSProvider.SmtpSMSProvider"
SECRET = "Gw-secret-7731"
DEFINITION = {"name": "gw1", "module": HTTP, "description": "test gateway", "option.URL": "https://sms.example/send",
              "option.HTTP_METHOD": "POST", "option.PASSWORD": SECRET, "option.USERNAME": "acct",
              "option.to": "{phone}", "option.text": "{otp}", "option.api_key": "K-" + SECRET,
              "header.X-Tenant": "t1"}


def definitions(api: Api, token: str) -> list[dict[str, Any]]:
    return ok(api.call("GET", "/smsgateway/", token))


def stored_values(api: Api) -> list[str]:
    with api.core.database.session() as session:
        return [o.value for o in session.scalars(select(SMSGatewayOption))]


def test_define_list_update_and_delete(api: Api) -> None:
    admin = api.admin()
    gid = ok(api.call("POST", "/smsgateway", admin, DEFINITION))
    assert isinstance(gid, int)
    (shown,) = definitions(api, admin)
    assert shown == {"id": gid, "name": "gw1", "providermodule": HTTP, "description": "test gateway",
                     "options": {"HTTP_METHOD": "POST", "PASSWORD": "__CENSORED__", "URL": "https://sms.example/send",
                                 "USERNAME": "acct", "api_key": "__CENSORED__", "text": "{otp}", "to": "{phone}"},
                     "headers": {"X-Tenant": "t1"}}
    assert ok(api.call("GET", f"/smsgateway/{gid}", admin)) == [shown]
    assert not any(SECRET in value for value in stored_values(api))
    assert SECRET not in str(api.call("GET", "/smsgateway/", admin)[1])
    # Posting the censored value back keeps the secret; other values are replaced.
    again = {**DEFINITION, "option.PASSWORD": "__CENSORED__", "option.api_key": "__CENSORED__", "option.to": "0{phone}"}
    assert ok(api.call("POST", "/smsgateway", admin, again)) == gid
    with api.core.database.session() as session:
        config = gateways.config(session, api.ctx.keys.security, "gw1")
    assert config.options["PASSWORD"] == SECRET and config.options["api_key"] == "K-" + SECRET
    assert config.options["to"] == "0{phone}" and config.headers == {"X-Tenant": "t1"}
    assert ok(api.call("DELETE", f"/smsgateway/option/{gid}/text", admin)) is True
    assert "text" not in definitions(api, admin)[0]["options"]
    assert error(api.call("DELETE", f"/smsgateway/option/{gid}/URL", admin)) == (400, 905)
    assert error(api.call("DELETE", f"/smsgateway/option/{gid}/nothing", admin)) == (404, 601)
    assert ok(api.call("DELETE", "/smsgateway/gw1", admin)) is True
    assert definitions(api, admin) == [] and stored_values(api) == []
    assert error(api.call("DELETE", "/smsgateway/gw1", admin)) == (404, 601)


def test_providers_lists_the_modules(api: Api) -> None:
    shown = ok(api.call("GET", "/smsgateway/providers", api.admin()))
    assert set(shown) == {HTTP, "privacyidea.lib.smsprovider.SipgateSMSProvider.SipgateSMSProvider",
                          "privacyidea.lib.smsprovider.ScriptSMSProvider.ScriptSMSProvider", SMTP,
                          "privacyidea.lib.smsprovider.FirebaseProvider.FirebaseProvider"}
    assert shown[HTTP]["parameters"]["URL"]["required"] is True


@pytest.mark.parametrize("change", [
    {"name": ""}, {"module": "privacyidea.lib.smsprovider.SmppSMSProvider.SmppSMSProvider"},
    {"option.URL": "file:///etc/passwd"}, {"option.HTTP_METHOD": "DELETE"}, {"option.RETURN_SUCCESS": "(("},
    {"option.PASSWORD": "__CENSORED__"}, {"header.X-A": "a\nb"}, {"server": "x"}, {"name": "n" * 300},
])
def test_bad_definitions_are_refused(api: Api, change: dict[str, str]) -> None:
    admin = api.admin()
    assert error(api.call("POST", "/smsgateway", admin, {**DEFINITION, **change})) == (400, 905)
    assert definitions(api, admin) == [] and stored_values(api) == []


def test_bad_paths_are_refused(api: Api) -> None:
    admin = api.admin()
    gid = ok(api.call("POST", "/smsgateway", admin, DEFINITION))
    assert error(api.call("GET", "/smsgateway/x1", admin)) == (400, 905)
    assert error(api.call("DELETE", "/smsgateway/option/x/URL", admin)) == (400, 905)
    assert error(api.call("DELETE", f"/smsgateway/option/{gid + 1}/URL", admin)) == (404, 601)
    assert len(definitions(api, admin)[0]["options"]) == 7


@pytest.mark.policy_action("admin", "smsgateway_read")
@pytest.mark.policy_action("admin", "smsgateway_write")
def test_each_right_opens_its_calls_only(api: Api) -> None:
    admin, other = api.admin(), api.admin("other")
    gid = ok(api.call("POST", "/smsgateway", admin, DEFINITION))
    api.policy("others", scope="admin", action="tokenlist", adminuser="other")
    api.policy("root", scope="admin", action="tokenlist", adminuser="admin")
    writes = (("POST", "/smsgateway", {**DEFINITION, "name": "new"}), ("DELETE", "/smsgateway/gw1", {}),
              ("DELETE", f"/smsgateway/option/{gid}/text", {}),
              ("POST", "/smsgateway/send_test_sms", {"identifier": "gw1", "phone": "0123"}))
    reads = (("GET", "/smsgateway/", {}), ("GET", "/smsgateway/providers", {}), ("GET", f"/smsgateway/{gid}", {}))
    for method, path, params in (*reads, *writes):
        assert error(api.call(method, path, other, params)) == (403, 303)
    api.policy("others", scope="admin", action="smsgateway_read", adminuser="other")
    assert [d["name"] for d in definitions(api, other)] == ["gw1"]
    for method, path, params in writes:
        assert error(api.call(method, path, other, params)) == (403, 303)
    api.policy("others", scope="admin", action="smsgateway_write", adminuser="other")
    assert isinstance(ok(api.call("POST", "/smsgateway", other, {**DEFINITION, "name": "new"})), int)
    assert ok(api.call("DELETE", "/smsgateway/new", other)) is True
    assert error(api.call("GET", "/smsgateway/", other)) == (403, 303)
    # An admin bound to a realm does not reach definitions, which belong to no realm.
    api.policy("root", scope="admin", action="smsgateway_read, smsgateway_write", adminuser="admin", realm="example")
    for method, path, params in (*reads, *writes):
        assert error(api.call(method, path, admin, params)) == (403, 303)


def test_the_smtp_provider_needs_a_defined_smtp_server(api: Api) -> None:
    admin = api.admin()
    gateway = {"name": "mailgw", "module": SMTP, "option.SMTPIDENTIFIED": "mail1",
               "option.MAILTO": "{phone}@sms.example.org"}
    assert error(api.call("POST", "/smsgateway", admin, gateway)) == (400, 905)
    assert definitions(api, admin) == []
    ok(api.call("POST", "/smtpserver/mail1", admin, {"server": "127.0.0.1", "sender": "otp@example.org"}))
    assert isinstance(ok(api.call("POST", "/smsgateway", admin, gateway)), int)
    with api.core.database.session() as session:
        loaded = gateways.loaded(session, api.ctx.keys.security, "mailgw")
        assert loaded.options["MAILTO"] == "{phone}@sms.example.org" and loaded.smtp.server == "127.0.0.1"
        with pytest.raises(DeliveryError) as gone:
            gateways.loaded(session, api.ctx.keys.security, "nothing")
        assert gone.value.permanent


def test_send_test_sms_queues_one_attempt(api: Api) -> None:
    admin = api.admin()
    ok(api.call("POST", "/smsgateway", admin, DEFINITION))
    for params, expected in (({"identifier": "nothing", "phone": "0123"}, (404, 601)),
                             ({"identifier": "gw1", "phone": "-rf"}, (400, 905)), ({"identifier": "gw1"}, (400, 905))):
        assert error(api.call("POST", "/smsgateway/send_test_sms", admin, params)) == expected
    with api.core.database.session() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
    status, body = api.call("POST", "/smsgateway/send_test_sms", admin, {"identifier": "gw1", "phone": "+49 170 1"})
    assert (status, body["result"]["value"]) == (200, True)
    with api.core.database.session() as session:
        (row,) = session.scalars(select(OutboxMessage)).all()
    assert (row.id, row.channel, row.recipient, row.max_attempts) == (body["detail"]["message_id"], "sms:gw1",
                                                                       "+49 170 1", 1)


@pytest.mark.policy_action("admin", "sms_gateways")
@pytest.mark.policy_action("user", "sms_gateways")
def test_sms_gateways_limits_the_gateway_chosen_at_enrollment(api: Api) -> None:
    admin, alice = api.admin(), api.user("alice")
    for name in ("gw1", "gw2"):
        ok(api.call("POST", "/smsgateway", admin, {**DEFINITION, "name": name}))

    def enroll(token: str, gateway: str) -> tuple[int, Any]:
        return api.call("POST", "/token/init", token, {"type": "sms", "phone": "0170123", "user": "alice",
                                                       "sms.identifier": gateway})

    assert error(enroll(admin, "nothing")) == (400, 905)
    assert ok(enroll(admin, "gw1"))  # no admin policy: any gateway that exists
    api.policy("root", scope="admin", action="enrollSMS, assign, sms_gateways=gw2", adminuser="admin")
    assert error(enroll(admin, "gw1")) == (403, 303)
    assert ok(enroll(admin, "gw2"))
    api.policy("users", scope="user", action="enrollSMS, sms_gateways=gw1", realm="example")
    assert error(enroll(alice, "gw2")) == (403, 303)
    assert ok(enroll(alice, "gw1"))
    with api.core.database.session() as session:
        chosen = [t.info("sms.identifier") for t in (api.core.tokens.get(session, s.serial)
                                                      for s in session.scalars(select(Token).order_by(Token.id)))]
    assert chosen == ["gw1", "gw2", "gw1"]
