"""``GET /policy/defs``: what the UI needs to offer policies, from the one action registry.

Besides the scopes, privacyIDEA answers two pseudo-scopes: ``conditions`` (the sections
and comparators of extended conditions) and ``pinodes`` (the node names ``pinode`` may
name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tesserad.core.policy.actions import definitions
from tesserad.core.policy.model import COMPARATORS, SECTIONS

CONDITIONS, PINODES = "conditions", "pinodes"


def _described(items: Mapping[str, str]) -> dict[str, dict[str, str]]:
    return {name: {"description": text} for name, text in items.items()}


def policy_defs(scope: str | None, nodes: Sequence[str]) -> Any:
    """All definitions, or those of ``scope`` (a scope, ``conditions`` or ``pinodes``);
    an unknown scope is a PolicyError naming the known ones."""
    if scope == CONDITIONS:
        return {"sections": _described(SECTIONS), "comparators": _described(COMPARATORS)}
    if scope == PINODES:
        return list(nodes)
    return definitions(scope)
