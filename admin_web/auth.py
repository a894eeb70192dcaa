"""``/auth``: log in to the API (a JWT for the ``Authorization`` header) and the caller's rights."""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import ANY_ADMIN, Access
from tesserad.admin_web.remote_user import trusted_remote_user
from tesserad.admin_web.rest import ADMIN_OR_USER, PUBLIC, Call, Resource, endpoint
from tesserad.admin_web.validate import result_detail, sign_response
from tesserad.core.auth import passkey_login
from tesserad.core.login import LoginChallenge, LoginService
from tesserad.core.webui import enrollable_types, granted, login_value


class AuthResource(Resource):
    @endpoint("POST", "/auth", roles=PUBLIC)
    def login(self, call: Call) -> Any:
        """Check ``username``/``password`` (``realm``, ``transaction_id``, the fields of a
        WebAuthn answer as for /validate/check) and issue a JWT
        with the role, rights, menus and web UI settings. Without a password, the user a
        trusted proxy names (``remote_user``) is logged in if the webui policy allows it;
        without a user name, the user whose passkey answers a ``/validate/initialize`` challenge."""
        params = call.params
        username = params.text("username", "", max_length=320) or ""
        realm = params.text("realm", max_length=255)
        call.audit.update(user=username, realm=realm or "", info="login")
        service = LoginService(call.ctx, call.rest.node, call.rest.config.web)
        password = params.text("password", "") or ""
        remote = trusted_remote_user(call.facts.client, call.facts.headers, call.rest.config.web)
        if not username and passkey_login.is_passkey_answer(params):
            answer = passkey_login.parse_answer(params.texts(), call.facts.headers.get("origin", "")[:255])
            identity = service.passkey_login(call.session, answer, client=call.client,
                                             user_agent=call.facts.user_agent)
        elif remote and not password and username in ("", remote):
            call.audit.update(user=remote, info="login as the remote user")
            identity = service.remote_login(call.session, remote, client=call.client)
        else:
            try:
                identity = service.login(call.session, username, password, realm,
                                         client=call.client, user_agent=call.facts.user_agent,
                                         transaction_id=params.text("transaction_id", max_length=64) or None,
                                         webauthn=sign_response(params, call.facts.headers.get("origin")))
            except LoginChallenge as exc:
                exc.detail = result_detail(exc.result)
                raise
        call.identity = identity
        call.audit.update(user=identity.username, realm=identity.realm, info=f"login as {identity.role}")
        sessions = call.rest.sessions
        token = sessions.issue(sessions.stamped(call.session, identity), granted(call.rights))
        return login_value(call.rights, token, call.rest.node, call.ctx.config.log.level)

    @endpoint("GET", "/auth/rights", roles=ADMIN_OR_USER, audit=False,
              access=Access(ANY_ADMIN, "none (the caller's own rights)", "none (the caller's own rights)"))
    def rights(self, call: Call) -> Any:
        """The token types the caller may enroll: ``{type: description}``."""
        return enrollable_types(call.rights)
