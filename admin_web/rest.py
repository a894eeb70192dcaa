"""The REST framework: how a resource declares its endpoints, and what every call goes through.

A resource is a class of handler methods, one module per resource (``admin_web/token.py``)::

    class RealmResource(Resource):
        @endpoint("GET", "/realm/", roles=ADMIN_ONLY, access=Access("resolverread", LISTED))
        def list(self, call: Call) -> Any:
            call.require_somewhere("resolverread")       # 403 unless the admin policies grant it
            ...                                          # show only the realms of rights.realms()

        @endpoint("POST", "/realm/<realm>", roles=ADMIN_ONLY, access=Access("resolverwrite", "the realm"))
        def save(self, call: Call, realm: str) -> Any:
            call.require("resolverwrite", [Target(realm=realm)])  # in every realm given
            resolvers = call.params.names("resolvers") or []
            ...
            call.audit["info"] = f"realm {realm}"      # the audit row of this call
            return {"added": [...], "failed": []}      # -> result.value

and is listed in ``site.RESOURCES``. What ``Rest`` does for each call:

1. On the reactor thread: copy the query string and body (``api.RawInput``), and for
   ``roles`` other than ``PUBLIC`` check the JWT from ``PI-Authorization``/``Authorization``
   (401 when missing, expired, badly signed or of the wrong role); without those headers,
   the web UI's session cookie together with its CSRF header (``browser_session``).
2. In the core thread pool: decode the parameters (query, form, JSON or multipart, within
   the limits of ``bodies``; ``call.params`` gives typed access with precise 905 errors)
   and check the path's values, open one session (``call.session``), run the handler, write one
   signed audit row (``call.audit`` fields: serial, token_type, user, realm, resolver, info;
   the action, administrator, client and success are filled in), commit. A ``TesseraError``
   rolls everything back, is audited as a failure and becomes the privacyIDEA error object
   (``api.ERRORS``: 905/400 parameter, 904/400 user, 601/404 not found, 303/403 policy,
   401 auth); anything else is a logged 500 without details.
3. The handler's return value is ``result.value``; ``call.detail`` becomes ``detail`` and
   ``call.extra`` extra keys of ``result`` (``authentication``). A ``Body`` is sent as it is
   (a file download, text); a ``Stream``'s chunks are produced one by one in the thread
   pool and written as they come (a CSV export), after the call's transaction committed.

Rights (``core.rights``, ``admin_web/authorization.py``): ``call.require(action, targets)``
checks the caller's scope (admin policies for admins, user policies for users) and raises
PolicyDenied (403). Admin rights are realm-scoped: pass a ``Target`` for every realm the
call touches (``Target.of_user(user)``, ``Target(realm=r)``); the admin needs the right in
all of them, and without targets on objects in no realm (an admin bound to no realm).
``call.require_somewhere(action)`` suffices for listings that show only
``call.rights.realms(action, call.realm_names())`` (None: all). Each endpoint declares what
it checks (``access=``) for the endpoint table in docs/authorization.md. ``call.user_param()``
is the user a request is about: the caller itself for role user,
the ``user``/``realm`` parameters for admins. ``call.ctx`` is the core Context.

Parameters (``admin_web/params.py``): ``call.params.text(name, default)``, ``required(name)``,
``flag(name, default)``, ``integer(name, default, minimum=, maximum=)``, ``names(name)`` (a JSON
list or comma-separated text), ``texts()``; the raw JSON value is ``call.params[name]``.
Tests: the ``api`` fixture (``tests/http/restapi.py``) serves the whole site in memory;
``api.admin()`` / ``api.user("alice")`` mint JWTs, ``api.call(method, path, token, params)``.
"""

from __future__ import annotations

import functools
import inspect
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from klein import Klein
from sqlalchemy.orm import Session
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.web.iweb import IRequest

from tesserad.admin_web import api
from tesserad.admin_web.authorization import Access
from tesserad.admin_web.browser_session import BrowserSessions, session_cookie
from tesserad.admin_web.config import SiteConfig
from tesserad.admin_web.failure_floor import FailureFloor
from tesserad.admin_web.params import Params, check_path
from tesserad.core import proxies
from tesserad.core.context import Context
from tesserad.core.errors import TesseraError
from tesserad.core.rights import Rights, Target
from tesserad.core.sessions import ADMIN, MISSING_RIGHT, USER, AuthError, Identity, Sessions
from tesserad.core.tokens.base import ParameterError
from tesserad.core.users.base import User, UserError

Runner = Callable[..., Deferred[Any]]
PUBLIC: frozenset[str] = frozenset()
ADMIN_ONLY = frozenset({ADMIN})
ADMIN_OR_USER = frozenset({ADMIN, USER})
# Headers that carry credentials are no facts for policy conditions.
_PRIVATE_HEADERS = frozenset({"authorization", "pi-authorization", "cookie"})


@dataclass(frozen=True)
class Body:
    """A non-JSON answer, sent as it is; with ``filename`` as a download."""

    content: str | bytes
    content_type: str
    filename: str | None = None


@dataclass(frozen=True)
class Stream:
    """A large answer: ``next(chunks)`` runs in the core thread pool (each chunk may open
    its own short transaction), and every chunk is written before the next is made."""

    chunks: Iterator[str | bytes]
    content_type: str
    filename: str | None = None


@dataclass(frozen=True)
class Endpoint:
    """One declared route: also what the API documentation is generated from."""

    method: str
    path: str
    roles: frozenset[str]
    request_id: int
    audit: bool
    summary: str
    access: Access | None

    @property
    def action(self) -> str:
        """The audit row's action."""
        return f"{self.method} {self.path}"


def endpoint(method: str, *paths: str, roles: frozenset[str] = ADMIN_ONLY, access: Access | None = None,
             request_id: int = 1, audit: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a handler method for ``method`` on each of ``paths`` (werkzeug syntax,
    ``<serial>`` becomes a keyword argument). ``roles``: who may call it (PUBLIC: no JWT);
    ``access``: the rights and realms it checks, for the endpoint table (every endpoint with
    roles declares it: tests/http/test_authorization_walk.py)."""
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        summary = (inspect.getdoc(fn) or "").split("\n\n")[0].replace("\n", " ")
        declared = [Endpoint(method, path, roles, request_id, audit, summary, access) for path in paths]
        fn.__rest_endpoints__ = [*getattr(fn, "__rest_endpoints__", []), *declared]  # type: ignore[attr-defined]
        return fn
    return decorate


class Resource:
    """Base of the REST resources: ``endpoint``-decorated methods ``(self, call, **path)``."""

    @classmethod
    def endpoints(cls) -> Iterator[tuple[str, Endpoint]]:
        for name in sorted(dir(cls)):
            for declared in getattr(getattr(cls, name), "__rest_endpoints__", ()):
                yield name, declared


@dataclass(frozen=True)
class RequestFacts:
    """What a handler may know of the HTTP request, read on the reactor thread."""

    method: str
    path: str
    client: str
    user_agent: str
    headers: Mapping[str, str]

    @classmethod
    def of(cls, request: IRequest) -> RequestFacts:
        headers = {name.decode("latin-1").lower(): values[0].decode("latin-1")
                   for name, values in request.requestHeaders.getAllRawHeaders()}
        return cls(request.method.decode("ascii", "replace"),
                   request.path.decode("utf-8", "replace"),
                   getattr(request.getClientAddress(), "host", "") or "",
                   headers.get("user-agent", "")[:255], headers)


class Call:
    """One API call inside its transaction: what a handler works with."""

    def __init__(self, rest: Rest, session: Session, identity: Identity | None, params: Params,
                 facts: RequestFacts):
        self.rest = rest
        self.ctx = rest.ctx
        self.session = session
        self.identity = identity
        self.params = params
        self.facts = facts
        self.audit: dict[str, Any] = {}
        self.detail: dict[str, Any] = {}
        self.extra: dict[str, Any] = {}

    @functools.cached_property
    def client(self) -> str:
        """The peer, or the client that trusted proxies speak for (X-Forwarded-For)."""
        forwarded = proxies.forwarded_hops(self.facts.headers.get("x-forwarded-for", ""))
        if not forwarded:
            return self.facts.client
        rules = self.ctx.sysconfig.settings(self.session).OverrideAuthorizationClient
        return proxies.effective_client(self.facts.client, forwarded, None, rules)

    @functools.cached_property
    def rights(self) -> Rights:
        if self.identity is None:
            raise AuthError("Authentication failure. Missing Authorization header.")
        headers = {k: v for k, v in self.facts.headers.items() if k not in _PRIVATE_HEADERS}
        directory = self.ctx.directory
        return Rights(self.ctx.policies.snapshot(self.session), self.identity, client=self.client,
                      node=self.rest.node, userinfo=lambda user: directory.user_info(self.session, user),
                      headers=headers, environ={"PATH_INFO": self.facts.path, "REQUEST_METHOD": self.facts.method})

    def require(self, action: str, targets: list[Target] | tuple[Target, ...] = ()) -> None:
        """The right ``action`` in every realm of ``targets``; none: on objects in no realm
        (an admin bound to no realm). See ``core.rights``."""
        self.rights.require(action, targets)

    def require_somewhere(self, action: str) -> None:
        """The right ``action`` in at least one realm: for listings that show only the
        realms of ``call.rights.realms(action, ...)``."""
        self.rights.require_somewhere(action)

    @property
    def is_admin(self) -> bool:
        return self.identity is not None and self.identity.is_admin

    def user_param(self, *, required: bool = False) -> User | None:
        """The user the request is about: the caller for role user; for admins the existing
        user named by ``user`` (``user@realm``) and ``realm``, None when not given."""
        if self.identity is not None and not self.identity.is_admin:
            return self.identity.user
        login = self.params.text("user", max_length=320)
        if not login:
            if required:
                raise ParameterError("missing parameter: user")
            return None
        user = self.ctx.directory.resolve(self.session, login, self.params.text("realm", max_length=255))
        if not user.exists:
            raise UserError(f"User {user} does not exist")
        return user

    def realm_names(self) -> list[str]:
        return list(self.ctx.directory.list_realms(self.session))


def _raw_headers(request: IRequest, content_type: str, filename: str | None) -> None:
    request.setHeader(b"Content-Type", content_type.encode("ascii"))
    request.setHeader(b"Cache-Control", b"no-store")
    if filename:
        safe = "".join(c for c in filename if c.isalnum() or c in "._-") or "download"
        request.setHeader(b"Content-Disposition", f'attachment; filename="{safe}"'.encode("ascii"))


class Rest:
    """Mounts resources on a Klein app and runs their calls (see the module docstring)."""

    log = Logger()

    def __init__(self, run: Runner, ctx: Context, config: SiteConfig, *, node: str | None = None,
                 floor: FailureFloor | None = None):
        self.run = run
        self.ctx = ctx
        self.config = config
        self.floor = floor
        self.node = node or socket.gethostname()
        self.sessions = Sessions(ctx.keys.security, ctx.clock, config.web.session_lifetime)
        self.browser = BrowserSessions(self.sessions, ctx.keys.security)
        self.endpoints: list[Endpoint] = []

    def mount(self, app: Klein, resources: list[Resource]) -> None:
        for resource in resources:
            for name, declared in type(resource).endpoints():
                handler = self._handler(getattr(resource, name), declared)
                app.route(declared.path, methods=[declared.method],
                          endpoint=f"{type(resource).__name__}.{name} {declared.method} {declared.path}")(handler)
                self.endpoints.append(declared)

    def _handler(self, method: Callable[..., Any], declared: Endpoint) -> Callable[..., Any]:
        async def handle(request: IRequest, **path: str) -> bytes:
            return await self.serve(request, declared, method, path)
        return handle

    async def serve(self, request: IRequest, declared: Endpoint, method: Callable[..., Any],
                    path: dict[str, str]) -> bytes:
        # Calls without a JWT (logins, offline refills, token callbacks) answer a failure at
        # the failure floor, so that its time does not tell which names exist.
        floor = self.floor if declared.roles == PUBLIC else None
        started = floor.start() if floor is not None else 0.0
        try:
            raw = api.RawInput.of(request)
            facts = RequestFacts.of(request)
            identity = self.identify(facts, declared.roles)
            value, call = await self.run(self._execute, declared, method, identity, raw, facts, path)
        except TesseraError as exc:
            if floor is not None:
                await floor.wait(started)
            return api.failed(request, exc, request_id=declared.request_id)
        except Exception:
            self.log.failure("{method} {path} failed", method=declared.method, path=declared.path)
            return api.internal_error(request, request_id=declared.request_id)
        if isinstance(value, Body):
            _raw_headers(request, value.content_type, value.filename)
            return value.content.encode("utf-8") if isinstance(value.content, str) else value.content
        if isinstance(value, Stream):
            return await self._stream(request, declared, value)
        return api.ok(request, value, call.detail or None, request_id=declared.request_id, extra=call.extra)

    async def _stream(self, request: IRequest, declared: Endpoint, stream: Stream) -> bytes:
        gone: list[bool] = []
        request.notifyFinish().addBoth(gone.append)
        _raw_headers(request, stream.content_type, stream.filename)
        while not gone:
            try:
                chunk = await self.run(next, stream.chunks, None)
            except Exception:
                self.log.failure("{method} {path} failed while streaming", method=declared.method,
                                 path=declared.path)
                request.loseConnection()  # the status line is out: only a cut answer tells the client
                break
            if chunk is None:
                break
            request.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        return b""

    def identify(self, facts: RequestFacts, roles: frozenset[str]) -> Identity | None:
        if not roles:
            return None
        headers = facts.headers
        browser = not (headers.get("pi-authorization") or headers.get("authorization")) and session_cookie(headers)
        identity = self.browser.identify(headers) if browser else self.sessions.from_headers(headers)
        if identity.role not in roles:
            raise AuthError(f"Authentication failure. You do not have the necessary role "
                            f"({'/'.join(sorted(roles))}) to access this resource!", code=MISSING_RIGHT)
        return identity

    def _execute(self, declared: Endpoint, method: Callable[..., Any], identity: Identity | None,
                 raw: api.RawInput, facts: RequestFacts, path: dict[str, str]) -> tuple[Any, Call]:
        """The worker-thread part: the parameters, one transaction, the handler, one audit
        row (a request refused for its parameters is audited like any other)."""
        started = time.monotonic()
        with self.ctx.database.session() as session:
            call = Call(self, session, identity, Params({}), facts)
            try:
                call.params = Params(raw.decode())
                check_path(path)
                if identity is not None:
                    self.sessions.check_current(session, self.ctx.directory, identity)
                value = method(call, **path)
            except TesseraError as exc:
                session.rollback()
                if declared.audit:
                    self._audit(call, declared.action, started, success=False, info=str(exc))
                    session.commit()
                raise
            if declared.audit:
                self._audit(call, declared.action, started, success=True)
            session.commit()
            return value, call

    async def refuse(self, request: IRequest, exc: TesseraError) -> None:
        """Audit a request refused before it reached an endpoint (a URL that is not UTF-8,
        a static path that is no file name); the answer waits for the row."""
        try:
            await self.run(self._audit_refusal, RequestFacts.of(request), exc)
        except Exception:
            self.log.failure("auditing a refused request failed")

    def _audit_refusal(self, facts: RequestFacts, exc: TesseraError) -> None:
        started = time.monotonic()
        with self.ctx.database.session() as session:
            self._audit(Call(self, session, None, Params({}), facts), f"{facts.method} {facts.path}", started,
                        success=False, info=str(exc))
            session.commit()

    def _audit(self, call: Call, action: str, started: float, *, success: bool, **fields: Any) -> None:
        identity = call.identity
        values = {**call.audit, **fields}
        if identity is not None and identity.is_admin:
            values.setdefault("administrator", identity.username)
        elif identity is not None:
            values.setdefault("user", identity.username)
            values.setdefault("realm", identity.realm)
            values.setdefault("resolver", identity.resolver)
        self.ctx.auditor.record(call.session, action=action, success=success,
                                started=started, client=call.client, user_agent=call.facts.user_agent,
                                **{k: str(v)[:255] if k != "info" else str(v) for k, v in values.items()})
