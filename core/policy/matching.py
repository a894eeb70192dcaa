"""Which policies apply to a request, and what they decide.

A ``PolicyQuery`` says what one request asks; a ``PolicySet`` is an immutable snapshot of
all policies that answers it with privacyIDEA's semantics:

- A query attribute left at None is not matched at all (privacyIDEA's ``Match`` passes
  None for what a request does not know); a policy attribute left empty matches everything.
- The cheap attributes are matched first, extended conditions last, so that a condition
  is evaluated only for a policy that otherwise applies. An active condition whose data
  the request does not have raises ``PolicyError`` (the spec's strict mode).
- ``time`` is evaluated at the injected clock's "now" in the server's local time zone
  (the TZ of the process), because operators write office hours in local time.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias, TypeVar, Union

from tesserad.core.clock import Clock
from tesserad.core.policy.actions import FALSE_WORDS, REGISTRY, TRUE_WORDS, unquote, unsupported_message
from tesserad.core.policy.errors import PolicyError
from tesserad.core.policy.fields import IPAddress, parse_address
from tesserad.core.policy.model import ENVIRONMENT, HEADER, TOKEN, TOKENINFO, USERINFO, Condition, PolicyDef
from tesserad.core.users.base import User

T = TypeVar("T")
# A fact of the request, or a function that fetches it: called only when a policy needs it.
Lazy: TypeAlias = Union[T, Callable[[], T]]  # noqa: UP007 (a generic alias needs Union)


@dataclass(frozen=True)
class PolicyQuery:
    """What one request asks. Every attribute but ``scope`` is optional (None: not matched).

    ``user_object`` fills ``user``, ``realm`` and ``resolver`` when they are not given.
    ``client`` "" means the client is unknown: then only policies without a client list
    apply. For admin policies ``user``/``realm``/``resolver`` are the user acted upon and
    ``adminuser``/``adminrealm`` the acting administrator. ``user_resolvers`` (all resolvers
    of the realm that know the user) serves ``check_all_resolvers``; ``userinfo``,
    ``token``, ``tokeninfo``, ``headers`` and ``environ`` serve extended conditions (a
    function returning None: the fact does not exist for this request).
    ``condition_sections`` limits which condition sections are evaluated (None: all;
    conditions of other sections count as fulfilled).
    """

    scope: str
    action: str | None = None
    realm: str | None = None
    resolver: str | None = None
    user: str | None = None
    user_object: User | None = None
    adminrealm: str | None = None
    adminuser: str | None = None
    client: str | None = None
    node: str | None = None
    user_resolvers: Lazy[Collection[str]] | None = None
    userinfo: Lazy[Mapping[str, Any] | None] | None = None
    token: Lazy[Mapping[str, Any] | None] | None = None
    tokeninfo: Lazy[Mapping[str, Any] | None] | None = None
    headers: Mapping[str, str] | None = None
    environ: Mapping[str, Any] | None = None
    condition_sections: Collection[str] | None = None

    def __post_init__(self) -> None:
        if self.scope not in REGISTRY:
            raise ValueError(f"unknown policy scope {self.scope!r}")
        if self.action is not None and self.action not in REGISTRY[self.scope]:
            raise ValueError(unsupported_message(self.scope, self.action))
        if self.user_object is not None:
            for name, value in (("user", self.user_object.login), ("realm", self.user_object.realm),
                                ("resolver", self.user_object.resolver)):
                given = getattr(self, name)
                if given is None:
                    object.__setattr__(self, name, value)
                elif given != value:
                    raise ValueError(f"{name} {given!r} contradicts user_object ({value!r})")

    def with_action(self, action: str) -> PolicyQuery:
        return dataclasses.replace(self, action=action)


@dataclass(frozen=True)
class BrokenPolicy:
    """A stored policy that no longer validates (edited in the database, or written by
    another version). While it is active, requests in its scope fail rather than be
    decided without it."""

    name: str
    scope: str
    active: bool
    reason: str


class _Facts:
    """The query's lazy facts, each fetched at most once per evaluation."""

    def __init__(self, query: PolicyQuery):
        self._query = query
        self._fetched: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self._fetched:
            value = getattr(self._query, name)
            self._fetched[name] = value() if callable(value) else value
        return self._fetched[name]


class PolicySet:
    """An immutable snapshot of all policies; safe to share between threads."""

    def __init__(self, policies: Iterable[PolicyDef], clock: Clock, broken: Iterable[BrokenPolicy] = ()):
        ordered = sorted(policies, key=lambda p: (p.priority, p.name))
        self._clock = clock
        self.policies: tuple[PolicyDef, ...] = tuple(ordered)
        self.broken: tuple[BrokenPolicy, ...] = tuple(broken)
        by_scope: dict[str, list[PolicyDef]] = {}
        for policy in ordered:
            if policy.active:
                by_scope.setdefault(policy.scope, []).append(policy)
        self._active = {scope: tuple(found) for scope, found in by_scope.items()}

    def has_active(self, scope: str) -> bool:
        """Whether any active policy of ``scope`` exists, whoever and whenever it is for."""
        return scope in self._active or any(b.active and b.scope == scope for b in self.broken)

    def mentions(self, scope: str, action: str) -> bool:
        """Whether an active policy of ``scope`` sets ``action`` at all (a cheap pre-check)."""
        return any(action in p.actions for p in self._active.get(scope, ())) or any(
            b.active and b.scope == scope for b in self.broken)

    def match(self, query: PolicyQuery) -> list[PolicyDef]:
        """The active policies that apply to ``query``, strongest (lowest priority) first."""
        for broken in self.broken:
            if broken.active and broken.scope == query.scope:
                raise PolicyError(f"policy {broken.name!r} is invalid ({broken.reason}); fix or "
                                  "delete it")
        facts = _Facts(query)
        address = _client_address(query.client)
        now = datetime.fromtimestamp(self._clock.now())
        return [p for p in self._active.get(query.scope, ())
                if _attributes_match(p, query, address, facts) and p.time.contains(now)
                and _conditions_hold(p, query, facts)]

    def action_values(self, query: PolicyQuery, *, unique: bool,
                      allow_white_space_in_action: bool = False) -> dict[str, list[str]]:
        """privacyIDEA's ``get_action_values``: each value of ``query.action`` mapped to the
        policies that set it. A value is split at blanks into several values unless it is
        quoted or ``allow_white_space_in_action``; switches contribute nothing. With
        ``unique`` only the strongest matching policies count, and different values among
        them are a conflict (PolicyError)."""
        action = _action_of(query)
        policies = self.match(query)
        if unique:
            policies = _strongest(policies)
        values: dict[str, list[str]] = {}
        for policy in policies:
            raw = policy.actions[action]
            if raw is True:
                continue
            quoted = unquote(raw) != raw
            for value in [unquote(raw)] if quoted or allow_white_space_in_action else raw.split():
                values.setdefault(value, []).append(policy.name)
        if unique and len(values) > 1:
            raise _conflict(action, policies)
        return values

    def get_bool(self, query: PolicyQuery) -> tuple[bool, list[str]]:
        """Whether any matching policy sets ``query.action``: switches add up across
        policies whatever their priority. Returns the names of those policies."""
        _action_of(query)
        names = [p.name for p in self.match(query)]
        return bool(names), names

    def get_value(self, query: PolicyQuery, default: Any) -> tuple[Any, list[str]]:
        """The one typed value of ``query.action`` from the strongest matching policies (the
        whole value, blanks included), with their names; ``default`` and no names when no
        policy sets it. Different values at the strongest priority are a PolicyError."""
        action = _action_of(query)
        policies = _strongest(self.match(query))
        values = {p.value(action) for p in policies}
        if len(values) > 1:
            raise _conflict(action, policies)
        if not values:
            return default, []
        return values.pop(), [p.name for p in policies]

    def get_max_int(self, query: PolicyQuery, default: int) -> int:
        """The highest value any matching policy sets for an int action (max_token_per_user
        and the like: priority is ignored), or ``default``."""
        action = _action_of(query)
        if REGISTRY[query.scope][action].type != "int":
            raise ValueError(f"{action!r} is not an integer action")
        return max((int(p.value(action)) for p in self.match(query)), default=default)

    def allowed(self, query: PolicyQuery) -> bool:
        """Admin and user rights: everything is allowed while the scope has no active policy
        at all; once one exists, only what a matching policy grants."""
        _action_of(query)
        return not self.has_active(query.scope) or bool(self.match(query))


def _action_of(query: PolicyQuery) -> str:
    if query.action is None:
        raise ValueError("this question needs a query with an action")
    return query.action


def _strongest(policies: list[PolicyDef]) -> list[PolicyDef]:
    return [p for p in policies if p.priority == policies[0].priority] if policies else []


def _conflict(action: str, policies: list[PolicyDef]) -> PolicyError:
    names = ", ".join(repr(p.name) for p in policies)
    return PolicyError(f"conflicting values for {action!r} in the policies {names} (all priority "
                       f"{policies[0].priority}); give them different priorities or the same value")


def _client_address(client: str | None) -> IPAddress | None:
    if not client:
        return None
    try:
        return parse_address(client)
    except ValueError as exc:
        raise PolicyError(str(exc), field="client") from None


def _attributes_match(policy: PolicyDef, query: PolicyQuery, address: IPAddress | None, facts: _Facts) -> bool:
    if query.action is not None and query.action not in policy.actions:
        return False
    # Only admin policies have admin attributes (build_policy), so others match any admin.
    for name in ("user", "realm", "adminrealm", "adminuser"):
        value = getattr(query, name)
        if value is not None and not getattr(policy, name).matches(value):
            return False
    if query.node is not None and not policy.pinode.matches(query.node):
        return False
    if query.client is not None and not policy.client.contains(address):
        return False
    return query.resolver is None or _resolver_matches(policy, query.resolver, facts)


def _resolver_matches(policy: PolicyDef, resolver: str, facts: _Facts) -> bool:
    """The user's resolver, or with ``check_all_resolvers`` any resolver of the realm that
    knows the user (the spec: a policy for a secondary resolver)."""
    if policy.resolver.matches(resolver):
        return True
    if not policy.check_all_resolvers:
        return False
    others = facts.get("user_resolvers")
    return others is not None and policy.resolver.matches_any(others)


# ---- extended conditions -----------------------------------------------------------------------

_SOURCES = {USERINFO: ("userinfo", "user attributes"), TOKEN: ("token", "token"),
            TOKENINFO: ("tokeninfo", "token"), HEADER: ("headers", "HTTP headers"),
            ENVIRONMENT: ("environ", "HTTP environment")}


def _conditions_hold(policy: PolicyDef, query: PolicyQuery, facts: _Facts) -> bool:
    sections = query.condition_sections
    return all(_condition_holds(policy, c, facts) for c in policy.conditions
               if c.active and (sections is None or c.section in sections))


def _condition_holds(policy: PolicyDef, condition: Condition, facts: _Facts) -> bool:
    attribute, what = _SOURCES[condition.section]
    data = facts.get(attribute)
    where = f"policy {policy.name!r} has a condition on {condition.section} {condition.key!r}"
    if data is None:
        raise PolicyError(f"{where}, but the request has no {what}")
    left = _lookup(data, condition.key, case_insensitive=condition.section == HEADER)
    if left is _MISSING:
        raise PolicyError(f"{where}, which this request does not have")
    try:
        return compare(left, condition.comparator, condition.value)
    except ValueError as exc:
        raise PolicyError(f"{where} that cannot be evaluated: {exc}") from None


_MISSING = object()


def _lookup(data: Mapping[str, Any], key: str, *, case_insensitive: bool) -> Any:
    if key in data:
        return data[key]
    if case_insensitive:
        for name, value in data.items():
            if name.lower() == key.lower():
                return value
    return _MISSING


def compare(left: Any, comparator: str, right: str) -> bool:
    """Evaluate ``left <comparator> right``; ValueError when the values do not fit it."""
    result = _COMPARE[comparator.lstrip("!")](left, right)
    return not result if comparator.startswith("!") else result


def _text(value: Any, comparator: str) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        raise ValueError(f"the value is a list; '{comparator}' needs a single value (use contains)")
    return str(value)


def _equals(left: Any, right: str) -> bool:
    if isinstance(left, bool):
        return right.strip().lower() in (TRUE_WORDS if left else FALSE_WORDS)
    return _text(left, "equals") == right


def _contains(left: Any, right: str) -> bool:
    if isinstance(left, str):
        return left == right  # a single-valued attribute is a list of one
    if isinstance(left, (list, tuple, set, frozenset)):
        return right in {str(item) for item in left}
    raise ValueError(f"'contains' needs a list, not {type(left).__name__}")


def _in(left: Any, right: str) -> bool:
    choices = [item.strip() for item in next(csv.reader([right], skipinitialspace=True), [])]
    return _text(left, "in") in choices


def _matches(left: Any, right: str) -> bool:
    return re.fullmatch(right, _text(left, "matches")) is not None


def _number(value: Any) -> int:
    if isinstance(value, (bool, int)):
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None


_COMPARE: dict[str, Callable[[Any, str], bool]] = {
    "equals": _equals, "contains": _contains, "in": _in, "matches": _matches,
    "<": lambda left, right: _number(left) < _number(right),
    ">": lambda left, right: _number(left) > _number(right),
}
