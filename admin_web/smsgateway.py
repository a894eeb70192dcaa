"""``/smsgateway/``: define, list and delete SMS gateways (privacyIDEA 3.8's smsgateway API).

Definitions belong to no realm, so each call needs ``smsgateway_read`` or
``smsgateway_write`` from a policy bound to no realm (``core.rights``). Secret options and
headers are write-only: listings show ``__CENSORED__``, which posted back keeps the value.
"""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import NO_REALM, Access
from tesserad.admin_web.rest import ADMIN_ONLY, Call, Resource, endpoint
from tesserad.core.sms import gateways
from tesserad.core.store.models.base import NAME_LENGTH
from tesserad.core.tokens.base import ParameterError

_KNOWN = {"name", "module", "description", "id"}
TEST_TEXT = "tesserad test SMS through the gateway {identifier}"


def _gateway_id(text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise ParameterError(f"the SMS gateway id must be a number, not {text[:40]!r}")
    return int(text)


def _prefixed(call: Call) -> tuple[dict[str, str], dict[str, str]]:
    """``option.*`` and ``header.*`` as two dictionaries; any other unknown name is refused."""
    options: dict[str, str] = {}
    headers: dict[str, str] = {}
    for name, value in call.params.texts().items():
        kind, dot, key = name.partition(".")
        if dot and kind == "option" and key:
            options[key] = value
        elif dot and kind == "header" and key:
            headers[key] = value
        elif name not in _KNOWN:
            raise ParameterError(f"unknown parameter {name[:40]!r}: give option.<name> or header.<name>")
    return options, headers


class SMSGatewayResource(Resource):
    @endpoint("GET", "/smsgateway/", roles=ADMIN_ONLY, access=Access("smsgateway_read", NO_REALM))
    def list(self, call: Call) -> Any:
        """The definitions (id, name, providermodule, description, options, headers)."""
        call.require("smsgateway_read")
        return gateways.listed(call.session)

    @endpoint("GET", "/smsgateway/<gwid>", roles=ADMIN_ONLY, access=Access("smsgateway_read", NO_REALM))
    def one(self, call: Call, gwid: str) -> Any:
        """``providers``: the provider modules and their parameters; a number: that definition."""
        call.require("smsgateway_read")
        if gwid == "providers":
            return gateways.providers()
        return gateways.listed(call.session, _gateway_id(gwid))

    @endpoint("POST", "/smsgateway", "/smsgateway/", roles=ADMIN_ONLY, access=Access("smsgateway_write", NO_REALM))
    def save(self, call: Call) -> Any:
        """Define the gateway ``name`` or replace its settings; its id."""
        call.require("smsgateway_write")
        params = call.params
        name = params.required("name", max_length=NAME_LENGTH)
        call.audit["info"] = name
        options, headers = _prefixed(call)
        return gateways.save(call.session, call.ctx.keys.security, name, module=params.required("module"),
                             description=params.text("description", "", max_length=NAME_LENGTH) or "",
                             options=options, headers=headers)

    @endpoint("POST", "/smsgateway/send_test_sms", roles=ADMIN_ONLY, access=Access("smsgateway_write", NO_REALM))
    def send_test_sms(self, call: Call) -> Any:
        """Queue a test SMS to ``phone`` through the saved gateway ``identifier`` (one attempt;
        the audit of the outbox tells how it went); True once queued (``detail.message_id``)."""
        call.require("smsgateway_write")
        params = call.params
        identifier = params.required("identifier", max_length=NAME_LENGTH)
        if not gateways.exists(call.session, identifier):
            raise gateways.SMSGatewayNotFound(f"The SMS gateway {identifier!r} does not exist")
        phone = gateways.checked_phone(params.required("phone", max_length=40))
        call.audit["info"] = f"{identifier} to {phone}"[:NAME_LENGTH]
        call.detail["message_id"] = call.ctx.outbox.enqueue(
            call.session, f"sms:{identifier}", phone, {"text": TEST_TEXT.format(identifier=identifier)},
            max_attempts=1)
        return True

    @endpoint("DELETE", "/smsgateway/<identifier>", roles=ADMIN_ONLY, access=Access("smsgateway_write", NO_REALM))
    def delete(self, call: Call, identifier: str) -> Any:
        """Delete the definition with its options and headers."""
        call.require("smsgateway_write")
        call.audit["info"] = identifier[:NAME_LENGTH]
        gateways.delete(call.session, identifier)
        return True

    @endpoint("DELETE", "/smsgateway/option/<gwid>/<key>", roles=ADMIN_ONLY,
              access=Access("smsgateway_write", NO_REALM))
    def delete_option(self, call: Call, gwid: str, key: str) -> Any:
        """Delete one option of the definition with id ``gwid``."""
        call.require("smsgateway_write")
        call.audit["info"] = f"{gwid} {key}"[:NAME_LENGTH]
        gateways.delete_option(call.session, _gateway_id(gwid), key)
        return True
