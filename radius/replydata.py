"""The reply attributes of one Access-Accept or Access-Challenge, worked out from the
engine's result alone.

The user's attributes leave tesserad only when an authorization policy
``add_user_in_response`` applies to the user and the NAS, its realm and resolver only with
``add_resolver_in_response``: the same rule as privacyIDEA's /validate/check, whose
details the FreeRADIUS plugin maps, so a migrated setup sends what it sent before. The
engine evaluated those policies and read the user's attributes once (AuthResult carries
what may be released); this module neither asks the policies nor the user store.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from twisted.logger import Logger

from tesserad.core.auth.request import AuthResult
from tesserad.radius.replyrules import USER_SOURCE, Key, ReplyRule

log = Logger()


def attributes(rules: Sequence[ReplyRule], result: AuthResult) -> list[tuple[Key, bytes]]:
    """The raw (key, value) pairs of ``rules`` for ``result``, in rule order."""
    known = facts({rule.source for rule in rules if rule.source}, result)
    pairs: list[tuple[Key, bytes]] = []
    for rule in rules:
        values, failed = rule.values(known)
        if failed:
            log.warn("reply attribute {attribute}: {count} value(s) of {source} cannot be encoded "
                     "as {datatype} and are left out", attribute=rule.attribute, count=failed,
                     source=rule.source, datatype=rule.datatype)
        pairs += [(rule.key, value) for value in values]
    return pairs


def facts(sources: Collection[str], result: AuthResult) -> dict[str, list[str]]:
    """The values of ``sources`` that this result may carry."""
    known: dict[str, list[str]] = {}
    if "serial" in sources or "type" in sources:
        issued = result.challenges
        known["serial"] = [c.serial for c in issued] if issued else _present(result.serial)
        known["type"] = [c.type for c in issued] if issued else _present(result.token_type)
    user = result.user
    if user is None or not result.accepted:
        return known
    if result.user_attributes is not None:
        known.update((USER_SOURCE + name, _strings(value)) for name, value in result.user_attributes.items())
    if result.release_resolver:
        known["realm"], known["resolver"] = _present(user.realm), _present(user.resolver)
    return known


def _present(value: str | None) -> list[str]:
    return [value] if value else []


def _strings(value: Any) -> list[str]:
    """A user attribute as the values a rule matches: each item of a list, empty ones left out."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return [str(item) for item in items if item not in (None, "")]
