"""``POST /auth``: who may log in to the API, and in which role.

Local admins (``tesserad-manage admin``) log in with their own password when no realm is
given; users of the ``web.superuser_realms`` log in as admins of their realm; every other
realm user gets role ``user``. Realm users are checked per the webui policy ``login_mode``:
the user-store password (default), their tokens (``privacyIDEA``, possibly in two steps
with a challenge), or not at all (``disable``). Failures are rate-limited per user name
and client address (``LoginThrottle``); the password never reaches an error or the audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from tesserad.core import admins
from tesserad.core.auth.request import AuthRequest, AuthResult, Outcome
from tesserad.core.context import Context
from tesserad.core.login_throttle import CLIENT, USER, Budget, LoginThrottle, user_key
from tesserad.core.policy.actions import WEBUI
from tesserad.core.policy.matching import PolicyQuery
from tesserad.core.sessions import ADMIN, AuthError, Identity
from tesserad.core.sessions import USER as USER_ROLE
from tesserad.core.users.base import User

MISSING_USERNAME = 4032
WRONG = "Authentication failure. Wrong credentials"


class LoginChallenge(AuthError):
    """The first step of a token login: the user must answer the challenges in ``result``."""

    def __init__(self, result: AuthResult):
        super().__init__(WRONG)
        self.result = result


class LoginSettings(Protocol):
    """The ``[web]`` settings of the login; the HTTP edge's section provides them."""

    @property
    def superuser_realms(self) -> Sequence[str]: ...
    @property
    def login_failures_per_user(self) -> int: ...
    @property
    def login_failures_per_client(self) -> int: ...
    @property
    def login_failure_window(self) -> int: ...


class LoginService:
    def __init__(self, ctx: Context, node: str, settings: LoginSettings):
        self._ctx = ctx
        self._node = node
        self._settings = settings
        self._throttle = LoginThrottle(ctx.database, ctx.clock)

    def login(self, session: Session, username: str, password: str, realm: str | None, *, client: str,
              user_agent: str = "", transaction_id: str | None = None) -> Identity:
        """The identity behind the credentials, or AuthError (LoginChallenge for a
        challenge to answer). The name is trimmed once, for the throttle and every lookup."""
        username = username.strip()
        if not username:
            raise AuthError("Authentication failure. Missing username", code=MISSING_USERNAME)
        login, user_realm = self._ctx.directory.split_user(session, username, realm or None)
        web = self._settings
        budgets = [Budget(USER, user_key(login, user_realm), web.login_failures_per_user),
                   Budget(CLIENT, client or "unknown", web.login_failures_per_client)]
        if not self._throttle.take(budgets, web.login_failure_window):
            raise AuthError("Authentication failure. Too many failed logins; try again later")
        if not realm and login == username and admins.exists(session, login):
            if not admins.login(session, self._ctx.hasher, login, password, self._ctx.clock):
                raise AuthError(WRONG)
            identity = Identity(ADMIN, login)
        else:
            identity = self._realm_user(session, self._ctx.directory.find_user(session, login, user_realm),
                                        password, client, user_agent, transaction_id)
        self._throttle.give_back(budgets)
        return identity

    def _realm_user(self, session: Session, user: User, password: str, client: str, user_agent: str,
                    transaction_id: str | None) -> Identity:
        if not user.exists:
            self._ctx.hasher.verify_nothing(password)
            raise AuthError(WRONG)
        policies = self._ctx.policies.snapshot(session)
        mode, _ = policies.get_value(PolicyQuery(scope=WEBUI, action="login_mode", user_object=user,
                                                 client=client, node=self._node), "userstore")
        if mode == "disable":
            raise AuthError("Authentication failure. The login for this user is disabled")
        if mode == "privacyIDEA":
            self._token_login(user, password, client, user_agent, transaction_id)
        elif not self._ctx.directory.check_password(session, user, password):
            raise AuthError(WRONG)
        superuser = user.realm in {name.lower() for name in self._settings.superuser_realms}
        return Identity(ADMIN if superuser else USER_ROLE, user.login, user.realm, user.resolver, user.uid,
                        authtype="pi" if mode == "privacyIDEA" else "password")

    def _token_login(self, user: User, password: str, client: str, user_agent: str,
                     transaction_id: str | None) -> None:
        result = self._ctx.auth.authenticate(
            AuthRequest(password=password, user=user.login, realm=user.realm, transaction_id=transaction_id,
                        client=client, user_agent=user_agent), "POST /auth")
        if result.outcome is Outcome.CHALLENGE:
            raise LoginChallenge(result)
        if not result.accepted:
            raise AuthError(WRONG)
