"""``mangle`` (authentication): rewrite user, pass or realm before authenticating.

Each rule is ``user|pass|realm/regex/replacement/`` (privacyIDEA's form, replacement in
Python's ``re.sub`` syntax); several rules apply one after the other, strongest policy
first, each to the result of the ones before. An empty field is left alone. A rule that
cannot be applied (a replacement naming a group the regex does not have) refuses the
request with the rule's field named, never its value.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from tesserad.core.auth.request import AuthRequest
from tesserad.core.policy.errors import PolicyError

# The rule's field -> the AuthRequest attribute it rewrites.
_FIELDS = {"user": "user", "pass": "password", "realm": "realm"}


def mangled(req: AuthRequest, rules: Sequence[str]) -> AuthRequest:
    """``req`` with the rules applied (``req`` itself when nothing changed)."""
    changes: dict[str, Any] = {}
    for rule in rules:
        key, pattern, replacement, _ = rule.split("/", 3)
        field = _FIELDS[key]
        value = changes.get(field, getattr(req, field))
        if not value:
            continue
        try:
            changes[field] = re.sub(pattern, replacement, value)
        except (re.error, IndexError) as exc:
            raise PolicyError(f"mangle rule for {key!r} cannot be applied: {exc}") from None
    if all(getattr(req, field) == value for field, value in changes.items()):
        return req
    return dataclasses.replace(req, **changes)
