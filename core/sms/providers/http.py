"""privacyIDEA's HttpSMSProvider: one GET or POST to the gateway's URL with the fixed
``PARAMETER`` dictionary and the free options (``{phone}``/``{otp}`` filled in) as query,
form or JSON body, the headers filled in the same way, basic auth, a certificate check
that can be turned off, a timeout, and ``RETURN_SUCCESS``/``RETURN_FAIL`` regular
expressions searched in the answer. ``PROXY`` settings are not offered.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode, urlsplit

from tesserad.core.sms.delivery import HttpRequest
from tesserad.core.sms.providers.base import GatewayConfig, Parameter, Provider, fill, seconds, yes
from tesserad.core.tokens.base import ParameterError

YES_NO = ("yes", "no")


def _pattern(value: str | None, name: str) -> re.Pattern[str] | None:
    if not value:
        return None
    try:
        return re.compile(value)
    except re.error as exc:
        raise ParameterError(f"option.{name} is no regular expression: {exc}") from None


def rewrite_phone(phone: str, rule: str | None) -> str:
    """``REGEXP`` as ``/pattern/replacement/``, e.g. ``/^0/0049/`` (0123 -> 0049123)."""
    if not rule:
        return phone
    parts = rule.split("/")
    if len(parts) != 4 or parts[0] or parts[3]:
        raise ParameterError("option.REGEXP must read /pattern/replacement/")
    pattern = _pattern(parts[1], "REGEXP")
    assert pattern is not None
    return pattern.sub(parts[2], phone)


def _fixed(value: str | None) -> dict[str, str]:
    if not value:
        return {}
    try:
        fixed = json.loads(value)
    except ValueError:
        fixed = None
    if not isinstance(fixed, dict) or not all(isinstance(v, str | int | float) for v in fixed.values()):
        raise ParameterError("option.PARAMETER must be a JSON object of names to values")
    return {str(k): str(v) for k, v in fixed.items()}


class HttpProvider(Provider):
    module = "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider"
    options_allowed = True
    headers_allowed = True
    parameters = {
        "URL": Parameter("The base URL of the HTTP gateway (http or https).", required=True),
        "HTTP_METHOD": Parameter("GET sends the parameters in the query string, POST in the body.",
                                 values=("GET", "POST")),
        "SEND_DATA_AS_JSON": Parameter("POST the parameters as a JSON object instead of a form.", values=YES_NO),
        "USERNAME": Parameter("User name for HTTP basic authentication."),
        "PASSWORD": Parameter("Password for HTTP basic authentication.", secret=True),
        "CHECK_SSL": Parameter("Verify the gateway's TLS certificate (default yes).", values=YES_NO),
        "TIMEOUT": Parameter("Seconds to wait for the gateway's answer (default 10)."),
        "RETURN_SUCCESS": Parameter("Regular expression the answer must contain for a sent SMS."),
        "RETURN_FAIL": Parameter("Regular expression that marks an answer as a failure."),
        "REGEXP": Parameter("Rewrite of the phone number as /pattern/replacement/, e.g. /^0/0049/."),
        "PARAMETER": Parameter("JSON object of fixed parameters sent with every request."),
    }

    def delivery(self, config: GatewayConfig, phone: str, message: str) -> HttpRequest:
        options = config.options
        url = options.get("URL", "")
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ParameterError("option.URL must be an http:// or https:// URL")
        phone = rewrite_phone(phone, options.get("REGEXP"))
        fixed = _fixed(options.get("PARAMETER"))
        free = {k: fill(v, phone, message) for k, v in options.items() if k not in self.parameters}
        clash = sorted(set(fixed) & set(free))
        if clash:
            raise ParameterError(f"the option {clash[0]} is also a fixed PARAMETER")
        data = {**fixed, **free}
        headers = tuple((k, fill(v, phone, message)) for k, v in sorted(config.headers.items()))
        method = options.get("HTTP_METHOD") or "GET"
        body: bytes | None = None
        if method == "GET":
            if data:
                url = f"{url}{'&' if '?' in url else '?'}{urlencode(data)}"
        elif yes(options.get("SEND_DATA_AS_JSON"), False):
            body = json.dumps(data).encode()
            headers += (("Content-Type", "application/json"),)
        else:
            body = urlencode(data).encode()
            headers += (("Content-Type", "application/x-www-form-urlencoded"),)
        return HttpRequest(method, url, headers, body, options.get("USERNAME", ""), options.get("PASSWORD", ""),
                           yes(options.get("CHECK_SSL"), True), seconds(options.get("TIMEOUT"), 10.0),
                           _pattern(options.get("RETURN_SUCCESS"), "RETURN_SUCCESS"),
                           _pattern(options.get("RETURN_FAIL"), "RETURN_FAIL"))

