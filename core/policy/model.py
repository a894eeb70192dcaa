"""A policy as the engine uses it: parsed and validated once, then immutable.

``build_policy`` is the one place where a policy's attributes are checked, whether they
come from the API, an import file or a stored row; every ``PolicyError`` names the
attribute at fault. The stored text is the canonical form ``PolicyDef.columns()`` writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from types import MappingProxyType
from typing import Any, Literal, TypeVar

from tesserad.core.policy.actions import (
    ADMIN,
    CATALOGUE,
    FALSE_WORDS,
    REGISTRY,
    SCOPES,
    TRUE_WORDS,
    ActionValue,
    NotSupportedYet,
    unquote,
    unsupported_message,
)
from tesserad.core.policy.errors import PolicyError, UnsupportedActions
from tesserad.core.policy.fields import ClientList, NameList, TimeWindows, split_list
from tesserad.core.store.models.base import NAME_LENGTH

USERINFO, TOKEN, TOKENINFO = "userinfo", "token", "tokeninfo"
HEADER, ENVIRONMENT = "HTTP Request header", "HTTP Environment"
SECTIONS: Mapping[str, str] = MappingProxyType({
    USERINFO: "The attributes of the user the request is about, from the user store.",
    TOKEN: "The token's database columns (serial, tokentype, active, failcount, otplen, count, "
           "description ...), case sensitive.",
    TOKENINFO: "The token's tokeninfo entries.",
    HEADER: "The HTTP request headers (names compared case-insensitively).",
    ENVIRONMENT: "The HTTP environment, e.g. PATH_INFO (case sensitive).",
})
COMPARATORS: Mapping[str, str] = MappingProxyType({
    "equals": "The value equals the given value.",
    "!equals": "The value does not equal the given value.",
    "contains": "The value (a list) has the given value as a member.",
    "!contains": "The value (a list) does not have the given value as a member.",
    "in": "The value is one of the given comma-separated values (\"double quotes\" allowed).",
    "!in": "The value is none of the given comma-separated values.",
    "matches": "The value matches the given regular expression as a whole.",
    "!matches": "The value does not match the given regular expression.",
    "<": "The value is a number smaller than the given number.",
    ">": "The value is a number greater than the given number.",
})

FIELDS = ("scope", "action", "realm", "resolver", "user", "adminrealm", "adminuser", "client", "time",
          "pinode", "priority", "active", "check_all_resolvers", "conditions", "description")
LIST_FIELDS = ("realm", "resolver", "user", "adminrealm", "adminuser", "pinode", "client")
NAME_PATTERN = re.compile(r"[0-9A-Za-z_. -]+")

V = TypeVar("V")
R = TypeVar("R")
# An action as written: True for a switch (or a bare ``passthru``), else the value text.
RawAction = str | Literal[True]


@dataclass(frozen=True)
class Condition:
    """An extended condition; all active ones must hold for the policy to match."""

    section: str
    key: str
    comparator: str
    value: str
    active: bool = True

    def as_list(self) -> list[Any]:
        """privacyIDEA's 5-element form ``[section, key, comparator, value, active]``."""
        return [self.section, self.key, self.comparator, self.value, self.active]


@dataclass(frozen=True)
class PolicyDef:
    """One policy, parsed. Immutable, so snapshots can be shared between threads."""

    name: str
    scope: str
    actions: Mapping[str, RawAction]
    realm: NameList
    resolver: NameList
    user: NameList
    adminrealm: NameList
    adminuser: NameList
    client: ClientList
    time: TimeWindows
    pinode: NameList
    priority: int = 1
    active: bool = True
    check_all_resolvers: bool = False
    conditions: tuple[Condition, ...] = ()
    description: str = ""
    # Actions (or values) tesserad does not enforce, kept as written in a policy stored by an
    # earlier version: reported, never matched, written back unchanged.
    unsupported: Mapping[str, RawAction] = dataclass_field(default_factory=lambda: MappingProxyType({}))

    def value(self, action: str) -> ActionValue:
        """The typed value of ``action`` (which the policy must have)."""
        raw = self.actions[action]
        return REGISTRY[self.scope][action].parse(None if raw is True else raw)

    def columns(self) -> dict[str, Any]:
        """The canonical text of each column of the ``policy`` row."""
        return {
            "scope": self.scope, "action": action_text({**self.actions, **self.unsupported}),
            **{name: ", ".join(getattr(self, name).entries) for name in LIST_FIELDS},
            "time": self.time.text, "priority": self.priority, "active": self.active,
            "check_all_resolvers": self.check_all_resolvers, "description": self.description,
        }


def split_actions(text: str) -> list[tuple[str, str | None]]:
    """``name`` / ``name=value`` items of an action text. A comma inside double quotes, or
    inside single quotes that open a value, belongs to the value (``smstext='Hi, <otp>'``);
    an apostrophe within a value is just a character. An unclosed quote runs to the end."""
    items: list[str] = []
    current: list[str] = []
    quote: str | None = None
    seen_equals = value_start = False
    for char in text:
        if quote is None and char == ",":
            items.append("".join(current))
            current, seen_equals, value_start = [], False, False
            continue
        current.append(char)
        if quote is not None:
            quote = None if char == quote else quote
        elif char == '"' or (char == "'" and value_start):
            quote = char
        if char == "=" and not seen_equals:
            seen_equals = value_start = True
        elif not char.isspace():
            value_start = False
    items.append("".join(current))
    result: list[tuple[str, str | None]] = []
    for item in filter(None, (i.strip() for i in items)):
        name, eq, value = item.partition("=")
        result.append((name.strip(), value.strip() if eq else None))
    return result


def action_text(actions: Mapping[str, RawAction]) -> str:
    return ", ".join(name if raw is True else f"{name}={raw}" for name, raw in actions.items())


# ---- building and validating -----------------------------------------------------------------

def build_policy(name: str, fields: Mapping[str, Any], *, keep_unsupported: bool = False) -> PolicyDef:
    """Parse and check one policy; ``fields`` holds any of ``FIELDS`` (missing: defaults).

    List attributes take a comma-separated string or a list, ``action`` a string, a list of
    ``name[=value]`` items or a dict (True for switches), ``conditions`` a list of
    ``[section, key, comparator, value, active]`` entries. A privacyIDEA action tesserad
    does not enforce raises ``UnsupportedActions`` naming all of them; with
    ``keep_unsupported`` (a stored policy) they go to ``PolicyDef.unsupported`` instead.
    """
    _check_name(name)
    fields = {key: value for key, value in fields.items() if value is not None}
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise PolicyError(f"unknown policy attribute; known: {', '.join(FIELDS)}", field=unknown[0])
    scope = fields.get("scope")
    if scope not in SCOPES:
        raise PolicyError(f"{scope!r} is not a scope; one of {', '.join(SCOPES)}", field="scope")
    lists = {key: _entries(key, fields.get(key)) for key in LIST_FIELDS}
    if scope != ADMIN:
        for key in ("adminrealm", "adminuser"):
            if lists[key]:
                raise PolicyError(f"only admin policies name administrators, not {scope} policies", field=key)
    actions, unsupported = _actions(scope, fields.get("action"))
    if unsupported and not keep_unsupported:
        raise UnsupportedActions({n: reason for n, (_, reason) in unsupported.items()})
    return PolicyDef(
        name=name, scope=scope, actions=actions,
        unsupported=MappingProxyType({n: raw for n, (raw, _) in unsupported.items()}),
        realm=_names("realm", lists["realm"]), resolver=_names("resolver", lists["resolver"]),
        user=_names("user", lists["user"]), adminrealm=_names("adminrealm", lists["adminrealm"]),
        adminuser=_names("adminuser", lists["adminuser"]), pinode=_names("pinode", lists["pinode"]),
        client=_parsed("client", ClientList.parse, lists["client"]),
        time=_parsed("time", TimeWindows.parse, _text("time", fields.get("time")).strip()),
        priority=_priority(fields.get("priority", 1)),
        active=_flag("active", fields.get("active", True)),
        check_all_resolvers=_flag("check_all_resolvers", fields.get("check_all_resolvers", False)),
        conditions=_conditions(fields.get("conditions")),
        description=_text("description", fields.get("description")),
    )


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name != name.strip():
        raise PolicyError(f"{name!r} is not a policy name: use letters, digits, '_', '-', '.' and "
                          "inner blanks", field="name")
    if len(name) > NAME_LENGTH:
        raise PolicyError(f"longer than {NAME_LENGTH} characters", field="name")


def _text(field: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PolicyError(f"expected text, not {type(value).__name__}", field=field)
    return value


def _entries(field: str, value: Any) -> tuple[str, ...]:
    if value is not None and not isinstance(value, str) and \
            not (isinstance(value, Sequence) and all(isinstance(v, str) for v in value)):
        raise PolicyError("expected a comma-separated string or a list of strings", field=field)
    return split_list(value)


def _parsed(field: str, parse: Callable[[V], R], value: V) -> R:
    try:
        return parse(value)
    except ValueError as exc:
        raise PolicyError(str(exc), field=field) from None


def _names(field: str, entries: tuple[str, ...]) -> NameList:
    return _parsed(field, NameList.parse, entries)


def _flag(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise PolicyError(f"expected true or false, not {value!r}", field=field)


def _priority(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PolicyError(f"expected a positive integer, not {value!r}", field="priority")
    return value


def _action_items(value: Any) -> Iterable[tuple[str, str | None]]:
    if value is None:
        return []
    if isinstance(value, str):
        items = split_actions(value)
        for name, raw in items:
            if raw and raw[0] in "'\"" and (len(raw) == 1 or raw[-1] != raw[0]):
                raise PolicyError(f"the value of {name!r} opens a quote it does not close", field="action")
        return items
    if isinstance(value, Mapping):
        return [(str(k), None if v is True else str(v)) for k, v in value.items() if v is not False]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return [item for v in value for item in _action_items(v)]
    raise PolicyError("expected a comma-separated string, a list or a dict of actions", field="action")


def _actions(scope: str, value: Any) -> tuple[Mapping[str, RawAction], dict[str, tuple[RawAction, str]]]:
    """The offered actions, and the catalogued ones tesserad does not enforce (or whose value
    it does not support yet) with the written value and the reason."""
    actions: dict[str, RawAction] = {}
    unsupported: dict[str, tuple[RawAction, str]] = {}
    for name, raw in _action_items(value):
        if name in actions or name in unsupported:
            raise PolicyError(f"{name!r} is given twice", field="action")
        written: RawAction = True if raw is None else raw
        action = REGISTRY[scope].get(name)
        if action is None:
            if CATALOGUE[scope].get(name) is None:
                raise PolicyError(unsupported_message(scope, name), field="action")
            unsupported[name] = (written, unsupported_message(scope, name))
            continue
        try:
            typed = action.parse(raw)
        except NotSupportedYet as exc:
            unsupported[name] = (written, str(exc))
            continue
        except ValueError as exc:
            raise PolicyError(str(exc), field="action") from None
        if typed is False:
            continue  # a switch written as =false is simply not set
        actions[name] = True if action.type == "bool" or raw is None else _canonical_value(name, raw)
    return MappingProxyType(actions), unsupported


def _canonical_value(name: str, raw: str) -> str:
    """The value as stored: a comma is kept inside quotes, so the text splits back."""
    if "," in raw and unquote(raw) == raw:
        if '"' in raw:
            raise PolicyError(f"the value of {name!r} has a comma and a double quote; it cannot be "
                              "stored", field="action")
        return f'"{raw}"'
    return raw


def _conditions(value: Any) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise PolicyError("expected a list of [section, key, comparator, value, active]", field="conditions")
    return tuple(_condition(number, entry) for number, entry in enumerate(value, 1))


def _condition(number: int, entry: Any) -> Condition:
    def fail(reason: str) -> PolicyError:
        return PolicyError(f"condition {number}: {reason}", field="conditions")

    if isinstance(entry, Condition):
        entry = entry.as_list()
    if isinstance(entry, str) or not isinstance(entry, Sequence) or len(entry) not in (4, 5):
        raise fail("expected [section, key, comparator, value, active]")
    section, key, comparator, right = entry[:4]
    if section not in SECTIONS:
        raise fail(f"{section!r} is not a section; one of {', '.join(SECTIONS)}")
    if not isinstance(key, str) or not key.strip():
        raise fail("the key is empty")
    if comparator not in COMPARATORS:
        raise fail(f"{comparator!r} is not a comparator; one of {', '.join(COMPARATORS)}")
    if not isinstance(right, str):
        raise fail(f"the value must be text, not {type(right).__name__}")
    if comparator.lstrip("!") == "matches":
        try:
            re.compile(right)
        except re.error as exc:
            raise fail(f"{right!r} is not a valid regular expression: {exc}") from None
    if comparator in ("<", ">") and not right.strip().lstrip("-").isdigit():
        raise fail(f"{comparator} compares numbers, not {right!r}")
    try:
        active = _flag("active", entry[4]) if len(entry) == 5 else True
    except PolicyError:
        raise fail(f"active must be true or false, not {entry[4]!r}") from None
    return Condition(section, key.strip(), comparator, right, active)

