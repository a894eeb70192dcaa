"""``/validate/*``: privacyIDEA's authentication endpoints, over the one engine.

Handlers only translate: parameters -> AuthRequest, AuthResult -> the spec's JSON. The
engine runs in the core thread pool; nothing here touches the database directly. Every
answer but an acceptance or a challenge waits for the failure floor (``failure_floor``).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from klein import Klein
from twisted.internet.defer import CancelledError, Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tesserad.admin_web import api
from tesserad.admin_web.failure_floor import FailureFloor
from tesserad.admin_web.params import Params
from tesserad.core import proxies
from tesserad.core.auth import passkey_login
from tesserad.core.auth.request import AuthRequest, AuthResult, Outcome
from tesserad.core.auth.service import AuthService, Gate
from tesserad.core.errors import TesseraError
from tesserad.core.policy.apikey import ApiKeyGate
from tesserad.core.tokens.base import ParameterError
from tesserad.core.webauthn import wire
from tesserad.core.webauthn.encoding import MAX_FIELD_LENGTH
from tesserad.core.webauthn.wire import SignResponse

Runner = Callable[..., Deferred[Any]]
VALIDATE_ID = 2  # privacyIDEA answers validate requests with id 2
KEY_HEADERS = ("pi-authorization", "authorization")  # where api_key_required looks for the API key


def edge_request(request: IRequest, protocol: str = "http") -> AuthRequest:
    """What the connection says about an authentication (peer, proxies, user agent), read
    on the reactor thread; the parameters are added by ``auth_request``."""
    client = request.getClientAddress()
    origin = request.getHeader(b"origin")
    return AuthRequest(
        password="", client=getattr(client, "host", "") or "", protocol=protocol,
        forwarded=proxies.forwarded_hops((request.getHeader(b"x-forwarded-for") or b"").decode("latin-1")),
        user_agent=(request.getHeader(b"user-agent") or b"").decode("latin-1")[:255],
        # The Origin header, for a WebAuthn answer among the parameters (see ``auth_request``).
        webauthn=SignResponse(origin=origin.decode("latin-1")[:255]) if origin else None)


def sign_response(params: Params, origin: str | None) -> SignResponse | None:
    """The answer to a WebAuthn challenge among the parameters, with the page's Origin
    header (None when the request carries none)."""
    answer = {name: params.text(name, max_length=MAX_FIELD_LENGTH) or "" for name in wire.FIELDS}
    if not any(answer[name] for name in wire.FIELDS[:4]):
        return None
    return SignResponse(**answer, origin=origin)


def auth_request(edge: AuthRequest, params: Params) -> AuthRequest:
    """The authentication the parameters ask for (a NUL or an over-long name is a ParameterError)."""
    if "pass" not in params:
        raise ParameterError("missing parameter: pass")
    text = params.text
    return dataclasses.replace(
        edge, webauthn=sign_response(params, edge.webauthn.origin if edge.webauthn else None),
        password=text("pass") or "", user=text("user", max_length=320) or None,
        realm=text("realm", max_length=255) or None, serial=text("serial", max_length=255) or None,
        transaction_id=text("transaction_id", max_length=255) or text("state", max_length=255) or None,
        token_type=text("type", max_length=64) or None, otp_only=text("otponly") in ("1", "true"),
        claimed_client=text("client", max_length=255) or None)


def result_detail(result: AuthResult) -> dict[str, Any]:
    """``detail`` as privacyIDEA shapes it for accept, reject and challenge."""
    detail: dict[str, Any] = {"message": result.message}
    if result.accepted and result.token_type == "passkey" and result.user is not None:
        # privacyIDEA 3.11 names the user a passkey identified (the request named none).
        detail["username"], detail["realm"] = result.user.login, result.user.realm
    if result.serial:
        detail["serial"] = result.serial
    if result.token_type:
        detail["type"] = result.token_type
    if result.otplen is not None:
        detail["otplen"] = result.otplen
    detail.update(result.reply)
    if result.next_pin_change is not None:
        detail["next_pin_change"], detail["pin_change"] = result.next_pin_change, result.pin_change
    if result.challenges:
        multi = [c.as_dict() for c in result.challenges]
        detail.update(multi[-1])  # privacyIDEA copies the last challenge to the top level
        detail["message"] = result.message
        detail["messages"] = [c.message for c in result.challenges]
        detail["transaction_ids"] = [c.transaction_id for c in result.challenges]
        detail["multi_challenge"] = multi
        detail["preferred_client_mode"] = result.preferred_client_mode or "interactive"
    if result.user_attributes is not None:
        detail["user"] = result.user_attributes
    if result.release_resolver and result.user is not None:
        detail["user-resolver"], detail["user-realm"] = result.user.resolver, result.user.realm
    return detail


def hide_detail(result: AuthResult) -> bool:
    """no_detail_on_success, and no_detail_on_fail for a rejection: a challenge keeps its
    detail, the client needs it."""
    if result.accepted:
        return result.no_detail_on_success
    return result.no_detail_on_fail and result.outcome is Outcome.REJECT


class Validate:
    app = Klein()
    log = Logger()

    def __init__(self, run: Runner, auth: AuthService, api_keys: ApiKeyGate | None = None,
                 floor: FailureFloor | None = None):
        self._run = run
        self._auth = auth
        self._api_keys = api_keys
        self._floor = floor

    async def _failed(self, started: float) -> None:
        if self._floor is not None:
            await self._floor.wait(started)

    async def _authenticate(self, request: IRequest, action: str) -> AuthResult:
        gate = None
        if self._api_keys is not None:
            keys = {name: request.getHeader(name) or "" for name in KEY_HEADERS}
            gate = functools.partial(self._api_keys.check, keys)
        return await self._run(self._decide, api.RawInput.of(request), edge_request(request), action, gate)

    def _decide(self, raw: api.RawInput, edge: AuthRequest, action: str, gate: Gate | None) -> AuthResult:
        """In the core thread pool: decode the parameters, authenticate. Parameters that
        make no authentication are refused with an audit row, as the engine's refusals are.
        A credential without a user is the answer of a usernameless passkey login."""
        try:
            params = Params(passkey_login.webauthn_names(raw.decode()))
            if passkey_login.is_passkey_answer(params):
                answer = passkey_login.parse_answer(params, edge.webauthn.origin or "" if edge.webauthn else "")
            else:
                req = auth_request(edge, params)
        except ParameterError as exc:
            self._auth.refuse(edge, action, exc)
            raise
        if passkey_login.is_passkey_answer(params):
            return self._auth.passkey_login(edge, answer, action, gate)
        return self._auth.authenticate(req, action, gate)

    async def _respond(self, request: IRequest, action: str,
                       render: Callable[[AuthResult], Awaitable[bytes] | bytes]) -> bytes:
        """Authenticate and render; errors become privacyIDEA error objects, and an
        unexpected failure a logged 500, never a traceback to the client."""
        started = self._floor.start() if self._floor is not None else 0.0
        try:
            result = await self._authenticate(request, f"{request.method.decode()} /validate/{action}")
            if result.outcome is Outcome.REJECT:
                await self._failed(started)
            rendered = render(result)
            return await rendered if inspect.isawaitable(rendered) else rendered
        except CancelledError:
            raise  # the client went away (while the answer waited for the floor): nothing to answer
        except TesseraError as exc:
            await self._failed(started)
            return api.failed(request, exc, request_id=VALIDATE_ID)
        except Exception:
            self.log.failure("/validate/{action} failed", action=action)
            await self._failed(started)
            return api.internal_error(request, request_id=VALIDATE_ID)

    @app.handle_errors(NotFound, MethodNotAllowed)
    def no_route(self, request: IRequest, failure: Failure) -> bytes:
        return api.no_route(request, failure)

    @app.route("/check", methods=["GET", "POST"])
    async def check(self, request: IRequest) -> bytes:
        def render(result: AuthResult) -> bytes:
            body = api.envelope({"status": True, "value": result.accepted, "authentication": result.outcome.value},
                                result_detail(result), VALIDATE_ID)
            if result.auth_items:
                body["auth_items"] = result.auth_items  # machine applications (offline hashes)
            if hide_detail(result):
                del body["detail"]  # no_detail_on_success / no_detail_on_fail
            return api.write_json(request, 200, body)
        return await self._respond(request, "check", render)

    @app.route("/initialize", methods=["GET", "POST"])
    async def initialize(self, request: IRequest) -> bytes:
        """privacyIDEA 3.11: a passkey challenge for no user (``type=passkey``); the answer
        goes to ``/validate/check`` with the transaction id and names the user by itself."""
        edge = edge_request(request)
        try:
            challenge = await self._run(self._initialize, api.RawInput.of(request), edge)
        except TesseraError as exc:
            return api.failed(request, exc, request_id=VALIDATE_ID)
        return api.ok(request, False, {"passkey": challenge, "transaction_id": challenge["transaction_id"]},
                      request_id=VALIDATE_ID, extra={"authentication": Outcome.CHALLENGE.value})

    def _initialize(self, raw: api.RawInput, edge: AuthRequest) -> dict[str, Any]:
        action = "POST /validate/initialize"
        try:
            token_type = Params(raw.decode()).required("type", max_length=64)
        except ParameterError as exc:
            self._auth.refuse(edge, action, exc)
            raise
        return self._auth.passkey_initialize(edge, token_type, action)

    @app.route("/radiuscheck", methods=["GET", "POST"])
    async def radiuscheck(self, request: IRequest) -> bytes:
        """Success is an empty 204, anything else an empty 400 (for simple RADIUS bridges)."""
        def render(result: AuthResult) -> bytes:
            request.setResponseCode(204 if result.accepted else 400)
            return b""
        return await self._respond(request, "radiuscheck", render)

    @app.route("/samlcheck", methods=["GET", "POST"])
    async def samlcheck(self, request: IRequest) -> bytes:
        async def render(result: AuthResult) -> bytes:
            attributes = await self._run(self._auth.saml_attributes, result)
            return api.ok(request, {"auth": result.accepted, "attributes": attributes}, result_detail(result),
                          request_id=VALIDATE_ID, extra={"authentication": result.outcome.value})
        return await self._respond(request, "samlcheck", render)

    @app.route("/polltransaction", methods=["GET"])
    @app.route("/polltransaction/<string:transaction_id>", methods=["GET"])
    async def polltransaction(self, request: IRequest, transaction_id: str | None = None) -> bytes:
        try:
            transaction_id = transaction_id or api.RawInput.of(request).texts().get("transaction_id")
            if not transaction_id:
                raise ParameterError("missing parameter: transaction_id")
            answered = await self._run(self._auth.poll, transaction_id)
        except TesseraError as exc:
            return api.failed(request, exc, request_id=VALIDATE_ID)
        return api.ok(request, answered, {"challenge_status": "accept" if answered else "pending"},
                      request_id=VALIDATE_ID,
                      extra={"authentication": Outcome.ACCEPT.value if answered else Outcome.REJECT.value})
