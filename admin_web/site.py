"""The root web resource: every HTTP route of the daemon hangs off this one Klein app,
each REST resource mounted as a branch of its own."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from klein import Klein
from twisted.internet.defer import ensureDeferred
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure
from twisted.web import resource
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, NoResource
from twisted.web.server import NOT_DONE_YET, Site
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tesserad.admin_web import api
from tesserad.admin_web.auth import AuthResource
from tesserad.admin_web.config import SiteConfig
from tesserad.admin_web.config_api import CONFIG_RESOURCES
from tesserad.admin_web.failure_floor import FailureFloor
from tesserad.admin_web.health import Health
from tesserad.admin_web.machine import ApplicationResource, MachineResolverResource, MachineResource
from tesserad.admin_web.openapi import OpenApiResource
from tesserad.admin_web.radiusserver import RadiusServerResource
from tesserad.admin_web.rest import Resource, Rest, Runner
from tesserad.admin_web.smsgateway import SMSGatewayResource
from tesserad.admin_web.smtpserver import SMTPServerResource
from tesserad.admin_web.token import TokenResource
from tesserad.admin_web.tokengroup import TokenGroupResource
from tesserad.admin_web.trigger import TriggerResource
from tesserad.admin_web.ui.app import WebUi
from tesserad.admin_web.validate import Validate
from tesserad.core.context import Context
from tesserad.core.policy.apikey import ApiKeyGate
from tesserad.core.tokens.base import ParameterError

# The REST resources, mounted by ``Root.attach`` (one module each).
RESOURCES: tuple[type[Resource], ...] = (AuthResource, TokenResource, TokenGroupResource, TriggerResource,
                                         OpenApiResource, *CONFIG_RESOURCES, MachineResource,
                                         MachineResolverResource, ApplicationResource, RadiusServerResource,
                                         SMSGatewayResource, SMTPServerResource)


class Root:
    """The daemon binds its ports before the core exists, so the routes that need the core
    are attached after start-up preparation (and before the reactor serves a request).
    The app is per instance: the REST routes are added to it at attach time."""

    def __init__(self, health: Health, validate: Validate | None = None):
        self.app = Klein()
        self.resource = UrlCheck(self)  # the site's root; carries the response signer
        self.validate_resource = validate
        self.rest: Rest | None = None

        @self.app.route("/healthz", methods=["GET", "HEAD"])
        def healthz(request: IRequest) -> Any:
            return health.healthz(request)

        self.app.handle_errors(NotFound, MethodNotAllowed)(api.no_route)

        @self.app.route("/validate/", branch=True)
        def validate_branch(request: IRequest) -> IResource:
            if self.validate_resource is None:
                return NoResource()
            return self.validate_resource.app.resource()

    def attach(self, run: Runner, ctx: Context, config: SiteConfig, clock: IReactorTime | None = None) -> Rest:
        """Mount /validate, the REST resources and the web UI over the core ``ctx`` with the
        site's ``config``; ``clock`` (default: the reactor) times the failure floor."""
        if clock is None:
            from twisted.internet import reactor as clock  # type: ignore[assignment]
        floor = FailureFloor(config.web.failure_floor_ms, clock)
        rest = Rest(run, ctx, config, floor=floor)
        signer = ctx.keys.response_signer if config.web.sign_responses else None
        self.resource.response_signer = signer  # type: ignore[attr-defined]
        api_keys = ApiKeyGate(ctx.policies, ctx.directory, rest.sessions, rest.node)
        self.validate_resource = Validate(run, ctx.auth, api_keys, floor)
        rest.mount(self.app, [resource() for resource in RESOURCES])
        WebUi(rest).mount(self.app)
        self.rest = rest  # UrlCheck audits its refusals through it
        return rest


class UrlCheck(resource.Resource):
    """The site's root, in front of the Klein app: a URL whose path or host name is not
    UTF-8 is refused here (a 905 with one log line and an audit row), where Klein would
    log a traceback for it."""

    isLeaf = True

    def __init__(self, root: Root):
        super().__init__()
        self.root = root
        self.app_resource = root.app.resource()

    def render(self, request: IRequest) -> Any:
        try:
            unquote_to_bytes(request.path).decode("utf-8")
            request.getRequestHostname().decode("utf-8")
        except UnicodeDecodeError:
            return self.refuse(request, ParameterError("the URL's path or host name is not UTF-8"))
        return self.app_resource.render(request)

    def refuse(self, request: IRequest, refusal: ParameterError) -> Any:
        if self.root.rest is None:  # before start-up preparation: nowhere to audit yet
            return api.failed(request, refusal)
        gone: list[Failure] = []
        request.notifyFinish().addErrback(gone.append)

        def answer(_: None) -> None:
            if not gone:
                request.write(api.failed(request, refusal))
                request.finish()
        ensureDeferred(self.root.rest.refuse(request, refusal)).addCallback(answer)
        return NOT_DONE_YET


def access_log_line(timestamp: str, request: IRequest) -> str:
    """The combined log format without the query string: GET parameters of /validate/check
    carry passwords and OTP values, and those never reach a log."""
    path = request.uri.split(b"?", 1)[0].decode("ascii", "replace")
    client = getattr(request.getClientAddress(), "host", "-")
    agent = (request.getHeader(b"user-agent") or b"-").decode("ascii", "replace").replace('"', "'")
    method = request.method.decode("ascii", "replace")
    protocol = request.clientproto.decode("ascii", "replace")
    length = request.sentLength or "-"
    return f'"{client}" - - {timestamp} "{method} {path} {protocol}" {request.code} {length} "{agent}"'


def build_site(root: Root) -> Site:
    # api.RawInput decodes bodies itself; Twisted's form parsing would parse each
    # Content-Type with the email package first, a measurable cost per request.
    site = Site(root.resource, logFormatter=access_log_line, parsePOSTFormSubmission=False)
    site.noisy = False
    site.displayTracebacks = False
    return site
