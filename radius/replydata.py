"""The reply attributes of one Access-Accept or Access-Challenge, worked out in the core
thread pool from the engine's result, the user store and the policies.

The user's attributes leave tesserad only when an authorization policy
``add_user_in_response`` applies to the user and the NAS, its realm and resolver only with
``add_resolver_in_response``: the same rule as privacyIDEA's /validate/check, whose
details the FreeRADIUS plugin maps, so a migrated setup sends what it sent before. The
user store and the policies are asked only when a rule of the client reads such a source.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.orm import Session
from twisted.logger import Logger

from tesserad.core.auth.request import AuthResult
from tesserad.core.policy.actions import AUTHZ
from tesserad.core.policy.matching import PolicyQuery
from tesserad.core.policy.store import PolicyStore
from tesserad.core.store import Database
from tesserad.core.users.base import User
from tesserad.core.users.directory import Directory
from tesserad.radius.replyrules import USER_ACTION, USER_SOURCE, Key, ReplyRule, gate

RESOLVER_ACTION = "add_resolver_in_response"


class ReplyData:
    log = Logger()

    def __init__(self, database: Database, directory: Directory, policies: PolicyStore, node: str):
        self._database = database
        self._directory = directory
        self._policies = policies
        self._node = node

    def attributes(self, rules: Sequence[ReplyRule], result: AuthResult, client: str) -> list[tuple[Key, bytes]]:
        """The raw (key, value) pairs of ``rules`` for ``result``, in rule order; ``client``
        is the NAS's address, as policies match it."""
        facts = self.facts({rule.source for rule in rules if rule.source}, result, client)
        attributes: list[tuple[Key, bytes]] = []
        for rule in rules:
            values, failed = rule.values(facts)
            if failed:
                self.log.warn("reply attribute {attribute}: {count} value(s) of {source} cannot be encoded "
                              "as {datatype} and are left out", attribute=rule.attribute, count=failed,
                              source=rule.source, datatype=rule.datatype)
            attributes += [(rule.key, value) for value in values]
        return attributes

    def facts(self, sources: Collection[str], result: AuthResult, client: str) -> dict[str, list[str]]:
        """The values of ``sources`` that this result may carry."""
        facts: dict[str, list[str]] = {}
        if "serial" in sources or "type" in sources:
            issued = result.challenges
            facts["serial"] = [c.serial for c in issued] if issued else _present(result.serial)
            facts["type"] = [c.type for c in issued] if issued else _present(result.token_type)
        actions = {gate(source) for source in sources} - {None}
        user = result.user
        if not actions or user is None or not user.exists or not result.accepted:
            return facts
        with self._database.session() as session:
            info = functools.cache(lambda: self._directory.user_info(session, user))
            granted = {action for action in actions if self._applies(session, action, user, client, info)}
            if USER_ACTION in granted:
                facts.update((USER_SOURCE + name, _strings(value)) for name, value in info().items())
        if RESOLVER_ACTION in granted:
            facts["realm"], facts["resolver"] = _present(user.realm), _present(user.resolver)
        return facts

    def _applies(self, session: Session, action: str, user: User, client: str, info: Any) -> bool:
        query = PolicyQuery(scope=AUTHZ, action=action, user_object=user, client=client, node=self._node,
                            userinfo=info)
        return self._policies.snapshot(session).get_bool(query)[0]


def _present(value: str | None) -> list[str]:
    return [value] if value else []


def _strings(value: Any) -> list[str]:
    """A user attribute as the values a rule matches: each item of a list, empty ones left out."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return [str(item) for item in items if item not in (None, "")]

