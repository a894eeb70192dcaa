"""What the caller of an API request may do: admin and user rights from the policies.

The one rule of the admin scope: a call names every realm it touches, each as a
``Target`` (the user acted upon, a realm a token is or will be in, every realm of a
resolver), and the admin needs the right in ALL of them. An object in no realm (a token or
resolver in no realm, the system configuration, policies, machine resolvers) is the target
realm "": only an admin whose policy is bound to no realm (nor resolver nor user) reaches
it, and ``require(action)`` without targets asks exactly that. Listings ask
``require_somewhere`` and then show only the realms of ``realms()``.

Users act on their own tokens; user policies match the user, and a user right is given
only by a user policy that names it (``losttoken`` is none). A scope without any active
policy allows everything (the spec's "no admin policy at all = full rights").
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tesserad.core.policy.actions import ADMIN, REGISTRY, USER
from tesserad.core.policy.errors import PolicyError
from tesserad.core.policy.matching import PolicyQuery, PolicySet
from tesserad.core.sessions import Identity
from tesserad.core.users.base import User

Facts = Callable[[], Mapping[str, Any] | None]


class PolicyDenied(PolicyError):
    """The caller's policies do not grant the action (privacyIDEA error 303, HTTP 403)."""


@dataclass(frozen=True)
class Target:
    """What an action is about: a user, or a realm a token belongs to ("" for none); the
    token's columns and info serve policies with token conditions."""

    realm: str = ""
    resolver: str = ""
    user: str = ""
    uid: str = ""
    token: Facts | None = None
    tokeninfo: Facts | None = None

    @classmethod
    def of_user(cls, user: User, **facts: Facts | None) -> Target:
        return cls(user.realm, user.resolver, user.login, user.uid, **facts)

    @property
    def user_object(self) -> User:
        return User(self.user, self.realm, self.resolver, self.uid)


# Objects in no realm: matched only by admin policies bound to no realm, resolver or user.
GLOBAL = Target()


class Rights:
    """The rights of one caller in one request, over one policy snapshot."""

    def __init__(self, policies: PolicySet, identity: Identity, *, client: str, node: str,
                 userinfo: Callable[[User], Mapping[str, Any]], headers: Mapping[str, str] | None = None,
                 environ: Mapping[str, Any] | None = None):
        self.policies = policies
        self.identity = identity
        self.scope = ADMIN if identity.is_admin else USER
        self._client = client
        self._node = node
        self._userinfo = userinfo
        self._headers = headers
        self._environ = environ

    def query(self, scope: str, action: str, target: Target | None) -> PolicyQuery:
        """A policy question about ``target``. In the admin scope the caller is the acting
        admin and ``target`` the user or realm acted upon (None: not matched); in the
        user scope the caller is the user. Other scopes match ``target`` as the user."""
        who = self.identity.user if scope == USER else (target.user_object if target else None)
        userinfo = None
        if who is not None and who.exists:
            found = who
            userinfo = (lambda: self._userinfo(found))  # noqa: E731 (a lazy fact)
        common: dict[str, Any] = {"scope": scope, "action": action, "client": self._client, "node": self._node,
                                  "headers": self._headers, "environ": self._environ, "userinfo": userinfo,
                                  "token": target.token if target else None,
                                  "tokeninfo": target.tokeninfo if target else None}
        if scope == ADMIN:
            return PolicyQuery(**common, adminuser=self.identity.username, adminrealm=self.identity.realm,
                               realm=target.realm if target else None, resolver=target.resolver if target else None,
                               user=target.user if target else None)
        return PolicyQuery(**common, user_object=who)

    def allowed(self, action: str, targets: Sequence[Target] = ()) -> bool:
        """Whether the caller's scope grants ``action`` for every one of ``targets``; no
        targets: for an admin, on objects in no realm (the target realm ""). An action the
        scope does not declare (enrolling a token type the spec does not list, ``losttoken``
        for users) is allowed only while the scope has no policy."""
        if self.scope == ADMIN:
            return self._granted(action, targets or [GLOBAL])
        return self._granted(action, [None])

    def allowed_somewhere(self, action: str) -> bool:
        """Whether ``action`` is granted in at least one realm (or for users at all): enough
        to ask for a listing that then shows only the realms of ``realms()``."""
        return self._granted(action, [None])

    def _granted(self, action: str, targets: Sequence[Target | None]) -> bool:
        if not self.policies.has_active(self.scope):
            return True
        if action not in REGISTRY[self.scope]:
            return False
        return all(self.policies.allowed(self.query(self.scope, action, target)) for target in targets)

    def require(self, action: str, targets: Sequence[Target] = ()) -> None:
        """Raise PolicyDenied unless ``allowed(action, targets)``."""
        if not self.allowed(action, targets):
            self._deny(action)

    def require_somewhere(self, action: str) -> None:
        if not self.allowed_somewhere(action):
            self._deny(action)

    def _deny(self, action: str) -> None:
        raise PolicyDenied(f"{self.scope.capitalize()} actions are defined, but the action {action} "
                           "is not allowed!")

    def realms(self, action: str, known: Iterable[str]) -> frozenset[str] | None:
        """The realms (of ``known``) in which an admin may ``action``; None when no realm
        binds the right (all realms, and tokens in no realm). Rights add up across policies."""
        if not self.identity.is_admin or not self.policies.has_active(ADMIN):
            return None
        matched = self.policies.match(self.query(ADMIN, action, None))
        if any(not policy.realm.entries for policy in matched):
            return None
        return frozenset(name for name in known if any(policy.realm.matches(name) for policy in matched))

    # ---- values of the caller's scope and of the enrollment and webui scopes -----------------
    # An action the scope does not declare (a per-type action of a token type the spec does
    # not list) has no policy: its default.

    def value(self, action: str, default: Any, target: Target | None = None, *, scope: str | None = None) -> Any:
        """The one value of ``action`` (default when no policy sets it)."""
        scope = scope or self.scope
        if action not in REGISTRY[scope]:
            return default
        found, _ = self.policies.get_value(self.query(scope, action, target), default)
        return found

    def switch(self, action: str, target: Target | None = None, *, scope: str | None = None) -> bool:
        scope = scope or self.scope
        return action in REGISTRY[scope] and self.policies.get_bool(self.query(scope, action, target))[0]

    def words(self, action: str, target: Target | None = None, *, scope: str | None = None,
              whole: bool = False) -> Collection[str]:
        """All values of a list action (e.g. ``verify_enrollment``) across matching policies;
        ``whole``: each policy's value as one text, blanks included (a ``text`` action)."""
        scope = scope or self.scope
        if action not in REGISTRY[scope]:
            return set()
        return set(self.policies.action_values(self.query(scope, action, target), unique=False,
                                               allow_white_space_in_action=whole))

    def max_int(self, action: str, default: int, target: Target | None = None, *, scope: str) -> int:
        if action not in REGISTRY[scope]:
            return default
        return self.policies.get_max_int(self.query(scope, action, target), default)
