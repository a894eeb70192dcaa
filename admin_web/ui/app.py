"""The web UI's routes on the daemon's Klein app: ``/`` and ``/ui/*`` pages, ``/ui/login`` and
``/ui/logout`` (which set and clear the session cookie), and ``/static/``.

Pages are rendered on the reactor thread from what the caller's policies grant (computed
in the core thread pool); their data comes from the REST API, which the page scripts call
with the session cookie and the CSRF value the page carries. Every answer forbids framing,
inline script and style, and sniffing.
"""

from __future__ import annotations

import hmac
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, TemplateError, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from klein import Klein
from markupsafe import Markup
from twisted.logger import Logger
from twisted.web.iweb import IRequest
from twisted.web.pages import notFound
from twisted.web.resource import IResource
from twisted.web.static import File

from tesserad.admin_web import api
from tesserad.admin_web.auth import AuthResource
from tesserad.admin_web.browser_session import CSRF_HEADER, session_cookie
from tesserad.admin_web.params import Params
from tesserad.admin_web.remote_user import trusted_remote_user
from tesserad.admin_web.rest import PUBLIC, Call, Endpoint, RequestFacts, Rest
from tesserad.admin_web.ui.pages import NAVIGATION, PAGES, Page, home
from tesserad.core.login import LoginService, remote_user_mode
from tesserad.core.sessions import DECODING_ERROR, TOKEN_EXPIRED, AuthError, Identity
from tesserad.core.tokens.base import ParameterError
from tesserad.core.webui import login_offer, login_value, page_frame

HERE = Path(__file__).parent
STATIC = (HERE / "static").resolve()
_NOT_A_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
SECURITY_HEADERS = {
    b"Content-Security-Policy": b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    b"X-Frame-Options": b"DENY",
    b"X-Content-Type-Options": b"nosniff",
    b"Referrer-Policy": b"no-referrer",
}
LOGIN = Endpoint("POST", "/ui/login", PUBLIC, 1, True, "Log in to the web UI.", None)
# What a login answers the page (the token goes into the cookie only).
LOGIN_FIELDS = ("role", "username", "realm")


def secure(request: IRequest, *, cache: bool = False) -> None:
    for name, value in SECURITY_HEADERS.items():
        request.setHeader(name, value)
    if not cache:
        request.setHeader(b"Cache-Control", b"no-store")


def static_file(segments: list[bytes]) -> Path | None:
    """The shipped script or style that the URL path's segments (percent-decoded) name:
    only a plain file under STATIC; None (a 404) for directories, missing files and
    symbolic links that lead out. Segments that cannot name a file (dot segments, NUL,
    control characters, slashes, not UTF-8) are a ParameterError (a 404 with an audit row)."""
    try:
        names = [segment.decode("utf-8") for segment in segments]
    except UnicodeDecodeError:
        raise ParameterError("a static file name is not UTF-8") from None
    if any(name in (".", "..") or _NOT_A_NAME.search(name) for name in names):
        raise ParameterError("a static file name holds a dot segment, a slash or a control character")
    if not names or "" in names:
        return None
    try:
        path = STATIC.joinpath(*names).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symbolic link loop
        return None
    return path if path.is_relative_to(STATIC) and path.is_file() else None


class WebUi:
    """Mounts the UI on ``app`` next to the REST resources of ``rest``."""

    log = Logger()

    def __init__(self, rest: Rest):
        self.rest = rest
        self.templates = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                                     autoescape=select_autoescape(default=True), trim_blocks=True,
                                     lstrip_blocks=True)
        self._custom_templates: dict[str, SandboxedEnvironment] = {}

    def mount(self, app: Klein) -> None:
        app.route("/", methods=["GET", "HEAD"])(self.root)
        app.route("/ui/", methods=["GET", "HEAD"])(self.start)
        app.route("/ui/login", methods=["GET", "HEAD"])(self.login_page)
        app.route("/ui/login", methods=["POST"])(self.login)
        app.route("/ui/logout", methods=["POST"])(self.logout)
        app.route("/ui/tokens/<serial>", methods=["GET", "HEAD"])(self.token_page)
        app.route("/ui/<name>", methods=["GET", "HEAD"])(self.page)
        app.route("/static/", branch=True)(self.static)

    # ---- navigation ------------------------------------------------------------------------------

    def root(self, request: IRequest) -> bytes:
        return self._redirect(request, "/ui/")

    def start(self, request: IRequest) -> bytes:
        try:
            identity, _ = self.rest.browser.page_identity(RequestFacts.of(request).headers)
        except AuthError:
            return self._redirect(request, "/ui/login")
        return self._redirect(request, home(identity.role))

    async def static(self, request: IRequest) -> IResource:
        secure(request, cache=True)
        try:
            found = static_file(request.postpath)
        except ParameterError as exc:
            api.log_refusal(request, exc)
            await self.rest.refuse(request, exc)
            found = None
        request.postpath = []  # the file is the whole answer: nothing below it
        return File(str(found)) if found is not None else notFound()

    def _redirect(self, request: IRequest, location: str) -> bytes:
        secure(request)
        request.setResponseCode(303)
        request.setHeader(b"Location", location.encode("ascii"))
        return b""

    def _html(self, request: IRequest, template: str, status: int = 200, **values: Any) -> bytes:
        secure(request)
        request.setResponseCode(status)
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        return self.templates.get_template(template).render(**values).encode("utf-8")

    # ---- login and logout ------------------------------------------------------------------------

    async def login_page(self, request: IRequest) -> bytes:
        facts = RequestFacts.of(request)
        offer = await self.rest.run(self._login_settings, facts)
        expired = request.args.get(b"expired") == [b"1"]
        return self._html(request, "login.html", title="Sign in", expired=expired, **offer,
                          **self._frame(offer["frame"]))

    def _login_settings(self, facts: RequestFacts) -> dict[str, Any]:
        """The login page's realms and text, its frame, and the user a trusted proxy names
        with the webui policy ``remote_user`` for them (disable for an unknown user)."""
        ctx, node = self.rest.ctx, self.rest.node
        with ctx.database.session() as session:
            realms, text = login_offer(session, ctx.policies, facts.client, node)
            policies = ctx.policies.snapshot(session)
            remote = trusted_remote_user(facts.client, facts.headers, self.rest.config.web)
            mode = "disable"
            if remote:
                try:
                    mode = remote_user_mode(policies, facts.client, node,
                                            LoginService(ctx, node, self.rest.config.web).remote_user(session, remote))
                except AuthError:
                    pass  # the proxy names nobody known here: the login form as usual
            return {"realms": realms, "login_text": text, "frame": page_frame(policies, facts.client, node),
                    "remote_user": remote if mode != "disable" else None, "remote_mode": mode}

    def _frame(self, frame: dict[str, str], **context: Any) -> dict[str, Any]:
        """The baseline and menu of a page: the templates ``custom_baseline`` and ``custom_menu``
        name (from ``web.customization_dir``, rendered sandboxed with ``context``), else None
        for the built-in ones; and the ``privacy_statement_link`` of the baseline."""
        link = frame.get("privacy_statement_link", "")
        return {"privacy_statement_link": link,
                "custom_baseline": self._custom(frame.get("custom_baseline", ""),
                                                privacy_statement_link=link, **context),
                "custom_menu": self._custom(frame.get("custom_menu", ""), **context)}

    def _custom(self, name: str, **context: Any) -> Markup | None:
        directory = self.rest.config.web.customization_dir
        if not name or not directory:
            return None
        if directory not in self._custom_templates:
            self._custom_templates[directory] = SandboxedEnvironment(
                loader=FileSystemLoader(directory), autoescape=True)
        try:
            # The operator's own template, rendered sandboxed and autoescaped: its output is HTML.
            html = self._custom_templates[directory].get_template(name).render(**context)
            return Markup(html)  # noqa: S704  # nosec B704
        except (TemplateError, OSError) as exc:
            self.log.warn("custom template {name!r} of {directory} not shown: {reason}", name=name,
                          directory=directory, reason=f"{type(exc).__name__}: {exc}")
            return None

    async def login(self, request: IRequest) -> bytes:
        """``POST /ui/login`` with JSON ``username``, ``password``, ``realm`` (and
        ``transaction_id`` for the second step of a token login): the /auth check and audit,
        the token into the cookie. JSON only, so another site's form cannot log a browser in."""
        secure(request)
        content_type = (request.getHeader(b"content-type") or b"").split(b";")[0].strip().lower()
        if content_type != b"application/json":
            return api.failed(request, ParameterError("the login expects a JSON body"))
        issued: list[str] = []

        def check(call: Call) -> dict[str, Any]:
            value = AuthResource().login(call)
            issued.append(value["token"])
            return {key: value[key] for key in LOGIN_FIELDS} | {"home": home(value["role"])}

        body = await self.rest.serve(request, LOGIN, check, {})
        if issued:
            request.responseHeaders.addRawHeader(
                b"Set-Cookie", self.rest.browser.login_cookie(issued[0], secure=request.isSecure()).encode("ascii"))
        return body

    def logout(self, request: IRequest) -> bytes:
        """End the browser's session: the cookie is cleared (with the CSRF header of the
        cookie, so another site cannot log the browser out)."""
        secure(request)
        headers = RequestFacts.of(request).headers
        token = session_cookie(headers)
        if token is not None and not hmac.compare_digest(headers.get(CSRF_HEADER, "").encode("ascii", "replace"),
                                                         self.rest.browser.csrf_token(token).encode("ascii")):
            return api.failed(request, AuthError("Authentication failure. Missing or wrong CSRF token.",
                                                 code=DECODING_ERROR))
        request.responseHeaders.addRawHeader(
            b"Set-Cookie", self.rest.browser.logout_cookie(secure=request.isSecure()).encode("ascii"))
        return api.ok(request, True)

    # ---- pages -----------------------------------------------------------------------------------

    async def page(self, request: IRequest, name: str) -> bytes:
        page = PAGES.get(name)
        if page is None or page.name == "token":
            return self._html(request, "message.html", 404, title="Not found",
                              message="There is no such page.")
        return await self._render(request, page)

    async def token_page(self, request: IRequest, serial: str) -> bytes:
        return await self._render(request, PAGES["token"], serial=serial)

    async def _render(self, request: IRequest, page: Page, **values: Any) -> bytes:
        facts = RequestFacts.of(request)
        try:
            identity, csrf = self.rest.browser.page_identity(facts.headers)
            settings = await self.rest.run(self._settings, identity, facts)
        except AuthError as exc:
            if exc.code == TOKEN_EXPIRED:
                request.responseHeaders.addRawHeader(
                    b"Set-Cookie", self.rest.browser.logout_cookie(secure=request.isSecure()).encode("ascii"))
                return self._redirect(request, "/ui/login?expired=1")
            return self._redirect(request, "/ui/login")
        shown = [PAGES[name] for name in NAVIGATION if self._opens(PAGES[name], identity, settings)]
        frame = self._frame(settings["frame"], nav=shown, page=page.name, me=identity)
        if not self._opens(page, identity, settings):
            return self._html(request, "message.html", 403, title="Not permitted", nav=shown, me=identity,
                              csrf=csrf, settings=settings, **frame,
                              message="Your policies do not allow you to use this page.")
        return self._html(request, f"{page.name}.html", title=page.title, page=page.name, nav=shown, me=identity,
                          csrf=csrf, settings=settings, rights=settings["rights"],
                          script=(STATIC / "js" / f"{page.name}.js").exists(), **values, **frame,
                          **self._page_data(page))

    @staticmethod
    def _opens(page: Page, identity: Identity, settings: dict[str, Any]) -> bool:
        return identity.role in page.roles and (page.menu is None or page.menu in settings["menus"])

    def _page_data(self, page: Page) -> dict[str, Any]:
        """What a page shows from the configuration file (there is no API for it)."""
        if page.name == "radius":
            return {"radius": self.rest.config.radius}
        return {}

    def _settings(self, identity: Identity, facts: RequestFacts) -> dict[str, Any]:
        """The caller's rights, menus and webui settings, as ``POST /auth`` answers them
        (AuthError when the session has ended, see ``Sessions.check_current``)."""
        with self.rest.ctx.database.session() as session:
            self.rest.sessions.check_current(session, self.rest.ctx.directory, identity)
            call = Call(self.rest, session, identity, Params({}), facts)
            value = login_value(call.rights, "", self.rest.node, self.rest.ctx.config.log.level)
            value["frame"] = page_frame(call.rights.policies, facts.client, self.rest.node)
        del value["token"]
        return value
