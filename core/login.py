"""``POST /auth``: who may log in to the API, and in which role.

Local admins (``tesserad-manage admin``) log in with their own password when no realm is
given; users of the ``web.superuser_realms`` log in as admins of their realm; every other
realm user gets role ``user``. Realm users are checked per the webui policy ``login_mode``:
the user-store password (default), their tokens (``privacyIDEA``, possibly in two steps
with a challenge), or not at all (``disable``). Failures are rate-limited per user name
and client address (``LoginThrottle``); the password never reaches an error or the audit.

A reverse proxy that authenticated the user itself (Kerberos, client certificates, SSO) may
name the user (privacyIDEA's REMOTE_USER; the HTTP edge decides whom to believe,
admin_web/remote_user.py); the name is used only while the webui policy ``remote_user``
(matched with that user, client and node) is ``allowed`` or ``force``.

Without a user name, a passkey answer to a ``/validate/initialize`` challenge logs in the
user it belongs to (privacyIDEA 3.11), where ``login_mode`` lets tokens log in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from tesserad.core import admins
from tesserad.core.auth.passkey_login import PasskeyAnswer
from tesserad.core.auth.request import AuthRequest, AuthResult, Outcome
from tesserad.core.context import Context
from tesserad.core.login_throttle import CLIENT, USER, Budget, LoginThrottle, user_key
from tesserad.core.policy.actions import WEBUI
from tesserad.core.policy.matching import PolicyQuery, PolicySet
from tesserad.core.sessions import ADMIN, AuthError, Identity
from tesserad.core.sessions import USER as USER_ROLE
from tesserad.core.users.base import User
from tesserad.core.webauthn.wire import SignResponse

MISSING_USERNAME = 4032
WRONG = "Authentication failure. Wrong credentials"
REMOTE_USER = "remote_user"  # the authtype of a login by the proxy's word


def remote_user_mode(policies: PolicySet, client: str, node: str, user: User | None) -> str:
    """The webui policy ``remote_user`` for the proxy's ``user`` (None: a local admin) from
    ``client``: disable, allowed or force."""
    mode, _ = policies.get_value(PolicyQuery(scope=WEBUI, action="remote_user", client=client, node=node,
                                             user_object=user), "disable")
    return str(mode)


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
              user_agent: str = "", transaction_id: str | None = None,
              webauthn: SignResponse | None = None) -> Identity:
        """The identity behind the credentials, or AuthError (LoginChallenge for a
        challenge to answer; ``webauthn``: the browser's answer to a WebAuthn challenge).
        The name is trimmed once, for the throttle and every lookup."""
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
                                        password, client, user_agent, transaction_id, webauthn)
        self._throttle.give_back(budgets)
        return identity

    def passkey_login(self, session: Session, answer: PasskeyAnswer, *, client: str, user_agent: str = "") -> Identity:
        """A usernameless login to the UI: the passkey names its user, whose webui
        ``login_mode`` must be ``privacyIDEA`` (the mode in which tokens log in)."""
        web = self._settings
        budgets = [Budget(CLIENT, client or "unknown", web.login_failures_per_client)]
        if not self._throttle.take(budgets, web.login_failure_window):
            raise AuthError("Authentication failure. Too many failed logins; try again later")
        result = self._ctx.auth.passkey_login(AuthRequest(password="", client=client, user_agent=user_agent),
                                              answer, "POST /auth")
        if not result.accepted or result.user is None:
            raise AuthError(WRONG)
        if self._login_mode(session, result.user, client) != "privacyIDEA":
            raise AuthError("Authentication failure. Passkeys do not log in to the UI for this user")
        self._throttle.give_back(budgets)
        return self._identity(result.user, "pi")

    def _login_mode(self, session: Session, user: User, client: str) -> str:
        policies = self._ctx.policies.snapshot(session)
        mode, _ = policies.get_value(PolicyQuery(scope=WEBUI, action="login_mode", user_object=user,
                                                 client=client, node=self._node), "userstore")
        return str(mode)

    def _realm_user(self, session: Session, user: User, password: str, client: str, user_agent: str,
                    transaction_id: str | None, webauthn: SignResponse | None) -> Identity:
        if not user.exists:
            self._ctx.hasher.verify_nothing(password)
            raise AuthError(WRONG)
        mode = self._login_mode(session, user, client)
        if mode == "disable":
            raise AuthError("Authentication failure. The login for this user is disabled")
        if mode == "privacyIDEA":
            self._token_login(user, password, client, user_agent, transaction_id, webauthn)
        elif not self._ctx.directory.check_password(session, user, password):
            raise AuthError(WRONG)
        return self._identity(user, "pi" if mode == "privacyIDEA" else "password")

    def _identity(self, user: User, authtype: str) -> Identity:
        superuser = user.realm in {name.lower() for name in self._settings.superuser_realms}
        return Identity(ADMIN if superuser else USER_ROLE, user.login, user.realm, user.resolver, user.uid,
                        authtype=authtype)

    def remote_login(self, session: Session, remote_user: str, *, client: str) -> Identity:
        """The identity of the user a trusted proxy authenticated (admin_web/remote_user.py),
        if the webui policy ``remote_user`` allows it: a local admin by its name alone, else
        ``login@realm`` or a user of the default realm, who must exist."""
        user = self.remote_user(session, remote_user)
        if remote_user_mode(self._ctx.policies.snapshot(session), client, self._node, user) == "disable":
            raise AuthError("Authentication failure. The login as the remote user is not allowed")
        return Identity(ADMIN, remote_user, authtype=REMOTE_USER) if user is None else \
            self._identity(user, REMOTE_USER)

    def remote_user(self, session: Session, remote_user: str) -> User | None:
        """The user behind the proxy's name: None for a local admin; AuthError when unknown."""
        login, realm = self._ctx.directory.split_user(session, remote_user, None)
        if login == remote_user and admins.exists(session, login):
            return None
        user = self._ctx.directory.find_user(session, login, realm)
        if not user.exists:
            raise AuthError(WRONG)
        return user

    def _token_login(self, user: User, password: str, client: str, user_agent: str,
                     transaction_id: str | None, webauthn: SignResponse | None) -> None:
        result = self._ctx.auth.authenticate(
            AuthRequest(password=password, user=user.login, realm=user.realm, transaction_id=transaction_id,
                        client=client, user_agent=user_agent, webauthn=webauthn), "POST /auth")
        if result.outcome is Outcome.CHALLENGE:
            raise LoginChallenge(result)
        if not result.accepted:
            raise AuthError(WRONG)
