"""The authentication engine's view of the policies (``core.auth.policy.AuthPolicies``).

Each request resolves the authentication-scope actions the engine reads into one
``AuthSettings``, with the names of the policies that decided, for the audit log.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tesserad.core.auth.policy import AuthSettings
from tesserad.core.policy.actions import AUTH
from tesserad.core.policy.matching import PolicyQuery, PolicySet
from tesserad.core.policy.store import PolicyStore
from tesserad.core.users.base import User
from tesserad.core.users.directory import Directory

log = logging.getLogger(__name__)

# AuthSettings field <- switch action.
_SWITCHES = {"pass_on_no_token": "passOnNoToken", "pass_on_no_user": "passOnNoUser",
             "increase_failcounter_on_challenge": "increase_failcounter_on_challenge",
             "reset_all_user_tokens": "reset_all_user_tokens"}


class PolicyAuthPolicies:
    """``AuthPolicies`` over the policy store, for the node ``node`` (``pinode``).

    With a ``directory``, policies may use userinfo conditions and ``check_all_resolvers``;
    the user store is asked only when such a policy would otherwise apply. Without one,
    a userinfo condition fails the request (strict mode) and policies match the user's
    own resolver only.
    """

    def __init__(self, store: PolicyStore, node: str, *, directory: Directory | None = None):
        self._store = store
        self._node = node
        self._directory = directory

    def for_request(self, session: Session, user: User | None, client: str) -> AuthSettings:
        policies = self._store.snapshot(session)
        query = self._query(session, user, client)
        decided: dict[str, None] = {}  # policy names in order, once each

        def value(action: str, default: Any) -> Any:
            found, names = policies.get_value(query.with_action(action), default)
            decided.update(dict.fromkeys(names))
            return found

        def switch(action: str) -> bool:
            found, names = policies.get_bool(query.with_action(action))
            decided.update(dict.fromkeys(names))
            return found

        settings = {"otppin": value("otppin", "tokenpin"), "passthru": _passthru(value("passthru", None)),
                    "challenge_text": value("challenge_text", None),
                    "challenge_response": _types(policies, query, decided),
                    **{field: switch(action) for field, action in _SWITCHES.items()}}
        return AuthSettings(**settings, policy_names=tuple(decided))

    def _query(self, session: Session, user: User | None, client: str) -> PolicyQuery:
        if user is None or self._directory is None:
            return PolicyQuery(scope=AUTH, user_object=user, client=client, node=self._node)
        directory = self._directory

        @functools.cache
        def userinfo() -> Mapping[str, Any] | None:
            return directory.user_info(session, user) if user.exists else None

        @functools.cache
        def resolvers() -> tuple[str, ...]:
            realm = directory.list_realms(session).get(user.realm)
            names = [member["name"] for member in realm["resolver"]] if realm else []
            return tuple(n for n in names if user.login and directory.resolver(session, n).uid_for(user.login))

        return PolicyQuery(scope=AUTH, user_object=user, client=client, node=self._node,
                           userinfo=userinfo, user_resolvers=resolvers)


def _passthru(found: Any) -> bool:
    """``passthru=userstore`` (or the legacy bare ``passthru``) checks the user-store
    password. A RADIUS server as passthru target is not supported by the engine yet, so
    such a policy lets nobody pass instead of passing the wrong way."""
    if found is True or found == "userstore":
        return True
    if found is not None:
        log.warning("passthru to RADIUS server %r is not supported; the policy is not applied", found)
    return False


def _types(policies: PolicySet, query: PolicyQuery, decided: dict[str, None]) -> frozenset[str]:
    """challenge_response: the token types of all matching policies together."""
    values = policies.action_values(query.with_action("challenge_response"), unique=False)
    for names in values.values():
        decided.update(dict.fromkeys(names))
    return frozenset(values)
