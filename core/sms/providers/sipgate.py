"""privacyIDEA's SipgateSMSProvider: an XML-RPC ``samurai.SessionInitiate`` call with basic
auth, the text as ``Content`` and ``sip:<phone>@sipgate.net`` as ``RemoteUri``; the answer
must report ``StatusCode`` 200. ``URL`` (tesserad's addition) points at another endpoint of
the same shape, such as a test gateway; ``PROXY`` is not offered.
"""

from __future__ import annotations

import re
from html import escape

from tesserad.core.sms.delivery import HttpRequest
from tesserad.core.sms.providers.base import GatewayConfig, Parameter, Provider, seconds
from tesserad.core.tokens.base import ParameterError

SAMURAI = "https://samurai.sipgate.net/RPC2"
_OK = re.compile(r"<name>\s*StatusCode\s*</name>\s*<value>\s*<(i4|int)>\s*200\s*</\1>")


def _member(name: str, value: str) -> str:
    return f"<member><name>{name}</name><value><string>{escape(value, quote=False)}</string></value></member>"


def session_initiate(phone: str, message: str) -> bytes:
    members = _member("RemoteUri", f"sip:{phone}@sipgate.net") + _member("TOS", "text") + _member("Content", message)
    return (f"<?xml version='1.0'?><methodCall><methodName>samurai.SessionInitiate</methodName>"
            f"<params><param><value><struct>{members}</struct></value></param></params></methodCall>").encode()


class SipgateProvider(Provider):
    module = "privacyidea.lib.smsprovider.SipgateSMSProvider.SipgateSMSProvider"
    parameters = {
        "USERNAME": Parameter("The sipgate user name.", required=True),
        "PASSWORD": Parameter("The sipgate password.", required=True, secret=True),
        "URL": Parameter(f"The XML-RPC endpoint (default {SAMURAI})."),
        "TIMEOUT": Parameter("Seconds to wait for sipgate's answer (default 10)."),
    }

    def delivery(self, config: GatewayConfig, phone: str, message: str) -> HttpRequest:
        options = config.options
        url = options.get("URL") or SAMURAI
        if not url.startswith(("https://", "http://")):
            raise ParameterError("option.URL must be an http:// or https:// URL")
        digits = re.sub(r"[^0-9]", "", phone)
        return HttpRequest("POST", url, (("Content-Type", "text/xml"),), session_initiate(digits, message),
                           options.get("USERNAME", ""), options.get("PASSWORD", ""), True,
                           seconds(options.get("TIMEOUT"), 10.0), success=_OK)
