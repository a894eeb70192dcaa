"""The privacyIDEA JSON envelope, its error objects, and request parameter parsing.

Existing privacyIDEA clients read ``result.status``, ``result.value``,
``result.authentication``, ``detail`` and ``result.error.code``; every REST resource
answers through ``ok`` and ``failed`` so the shape cannot drift between endpoints.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest

from tesserad import __version__
from tesserad.admin_web import bodies
from tesserad.admin_web.bodies import MAX_BODY, RequestTooLarge
from tesserad.core.auth.request import NotAuthorized
from tesserad.core.errors import DatabaseError, TesseraError, Unavailable
from tesserad.core.policy.errors import PolicyError, PolicyNotFound
from tesserad.core.radius_servers import RadiusServerNotFound
from tesserad.core.security.signing import Signer
from tesserad.core.sessions import AuthError
from tesserad.core.sms.gateways import SMSGatewayNotFound
from tesserad.core.smtp_servers import SMTPServerNotFound
from tesserad.core.sysconfig import SystemConfigError
from tesserad.core.tokens.base import ParameterError, TokenError, TokenNotFound
from tesserad.core.tokens.groups import TokenGroupNotFound
from tesserad.core.users.base import ResolverError, UserError

# The API level tesserad implements; clients that check it see the privacyIDEA release
# whose REST API this is.
API_VERSION = "3.8"
VERSION_STRING = f"privacyIDEA {API_VERSION} compatible (tesserad {__version__})"

_log = Logger()

# Exception class -> (privacyIDEA error code, HTTP status). Most specific first.
# Unavailable (the database or a user store does not answer) is 503, not a refusal: a
# client tries another server or later.
ERRORS: list[tuple[type[Exception], int, int]] = [
    (Unavailable, 903, 503),
    (TokenNotFound, 601, 404),
    (TokenGroupNotFound, 601, 404),
    (RadiusServerNotFound, 601, 404),
    (SMSGatewayNotFound, 601, 404),
    (SMTPServerNotFound, 601, 404),
    (PolicyNotFound, 601, 404),
    (PolicyError, 303, 403),
    (NotAuthorized, 401, 400),
    (ParameterError, 905, 400),
    (SystemConfigError, 905, 400),
    (UserError, 904, 400),
    (ResolverError, 904, 400),
    (TokenError, 301, 400),
    (DatabaseError, 903, 503),
]


def envelope(result: dict[str, Any], detail: Any, request_id: int) -> dict[str, Any]:
    return {"id": request_id, "jsonrpc": "2.0", "result": result, "detail": detail,
            "version": VERSION_STRING, "versionnumber": API_VERSION, "time": time.time()}


def response_signer(request: IRequest) -> Signer | None:
    """The key that signs this site's answers: ``Root.attach`` puts it on the root resource."""
    return getattr(getattr(getattr(request, "site", None), "resource", None), "response_signer", None)


def write_json(request: IRequest, status: int, body: dict[str, Any]) -> bytes:
    """The answer as compact JSON. With a response signer, the keys are sorted and the last
    key is ``signature``: the signature over the answer as it would read without it, so a
    client verifies ``json.dumps(answer minus signature, sort_keys=True, separators=(",", ":"))``."""
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", b"application/json; charset=utf-8")
    request.setHeader(b"Cache-Control", b"no-store")
    signer = response_signer(request)
    payload = json.dumps(body, separators=(",", ":"), sort_keys=signer is not None).encode("utf-8")
    if signer is not None:
        payload = payload[:-1] + b',"signature":"' + signer.sign(payload).encode("ascii") + b'"}'
    request.setHeader(b"Content-Length", str(len(payload)).encode())
    return payload


def ok(request: IRequest, value: Any, detail: Any = None, *, request_id: int = 1,
       extra: dict[str, Any] | None = None) -> bytes:
    result = {"status": True, "value": value, **(extra or {})}
    return write_json(request, 200, envelope(result, detail, request_id))


def error_code(exc: Exception) -> tuple[int, int]:
    if isinstance(exc, AuthError):
        return exc.code, 401
    if isinstance(exc, PolicyError) and not isinstance(exc, PolicyNotFound) and exc.field is not None:
        return 905, 400  # a policy definition given is invalid: a parameter error, as in privacyIDEA
    for cls, code, status in ERRORS:
        if isinstance(exc, cls):
            return code, status
    return 500, 500


def log_refusal(request: IRequest, exc: TesseraError) -> None:
    """The one log line of a request refused for its input (the path without the query)."""
    _log.info("{method} {path} refused: {reason}", method=request.method.decode("ascii", "replace"),
              path=request.path.decode("ascii", "replace"), reason=str(exc))


def failed(request: IRequest, exc: TesseraError, *, request_id: int = 1) -> bytes:
    """The error object; refused input (905) is also one log line, never a traceback."""
    code, status = error_code(exc)
    if code == 905:
        log_refusal(request, exc)
    result = {"status": False, "error": {"code": code, "message": f"ERR{code}: {exc}"}}
    return write_json(request, status, envelope(result, getattr(exc, "detail", None), request_id))


def no_route(request: IRequest, failure: Failure) -> bytes:
    """Klein's answer for an unknown path or method, as a JSON error object instead of an
    HTML page: API clients parse every answer as JSON."""
    status = failure.value.code  # werkzeug's NotFound (404) or MethodNotAllowed (405)
    if status == 405:
        request.setHeader(b"Allow", ", ".join(failure.value.valid_methods or []).encode())
    path = request.path.decode("utf-8", "replace")
    message = "no such endpoint" if status == 404 else "method not allowed for"
    result = {"status": False, "error": {"code": status, "message": f"ERR{status}: {message} {path}"}}
    return write_json(request, status, envelope(result, None, 1))


def internal_error(request: IRequest, *, request_id: int = 1) -> bytes:
    result = {"status": False, "error": {"code": 500, "message": "ERR500: internal error (see the server log)"}}
    return write_json(request, 500, envelope(result, None, request_id))


@dataclass(frozen=True)
class RawInput:
    """A request's parameters as received: read on the reactor thread (a copy of at most
    MAX_BODY + 1 bytes), decoded where the work is audited (``decode`` raises ParameterError)."""

    content_type: bytes
    query: bytes
    body: bytes
    declared_length: int = 0

    @classmethod
    def of(cls, request: IRequest) -> RawInput:
        length = request.getHeader(b"content-length") or b""
        body = request.content.read(MAX_BODY + 1) if request.content is not None else b""
        return cls(request.getHeader(b"content-type") or b"", request.uri.partition(b"?")[2], body,
                   int(length) if length.isdigit() else 0)

    def decode(self) -> dict[str, Any]:
        """JSON values keep their type (lists for ``groups``, objects for policy conditions);
        query, form and multipart values (uploaded files too) are strings."""
        if max(self.declared_length, len(self.body)) > MAX_BODY:
            raise RequestTooLarge(f"request body larger than {MAX_BODY} bytes")
        return bodies.decode(self.content_type, self.query, self.body)

    def texts(self) -> dict[str, str]:
        """Every parameter as text (``text_value``)."""
        return {key: text_value(key, value) for key, value in self.decode().items()}


def text_value(key: str, value: Any) -> str:
    """A parameter as text: JSON numbers and booleans as privacyIDEA reads them, null as "";
    lists and objects are refused."""
    if isinstance(value, (dict, list)):
        raise ParameterError(f"parameter {key} must be a string, number or boolean")
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)
