"""The policy export and import formats.

tesserad exports JSON::

    {"tesserad-policies": 1,
     "policies": [{"name": "pol1", "scope": "admin", "action": {"tokenlist": true},
                   "realm": ["r1"], "resolver": [], "user": [], "adminrealm": [], "adminuser": [],
                   "client": [], "pinode": [], "time": "", "priority": 1, "active": true,
                   "check_all_resolvers": false, "conditions": [], "description": ""}]}

Each policy has the shape of ``GET /policy/``. Import reads that, a bare JSON list of such
policies, or privacyIDEA's export (``GET /policy/export/<file>``, ``pi-manage policy
p_export``): ``[name]`` sections of ``key = value`` lines whose values are Python literals,
read with ``ast.literal_eval`` (never executed) or else taken as text; keys other than the policy attributes
(e.g. ``name``) are ignored there.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from typing import Any

from tesserad.core.policy.errors import PolicyError
from tesserad.core.policy.model import FIELDS

FORMAT_KEY = "tesserad-policies"
# What errors in the import text name as the field at fault.
FILE = "file"
FORMAT_VERSION = 1
# Values of privacyIDEA's export that are plain text, not Python literals.
_TEXT_KEYS = ("scope", "time", "description")


def export_text(policies: list[dict[str, Any]]) -> str:
    return json.dumps({FORMAT_KEY: FORMAT_VERSION, "policies": policies}, indent=2, sort_keys=True) + "\n"


def parse_import(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, attributes) of every policy in ``text``, in file order."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return _privacyidea(text)
    if isinstance(data, Mapping):
        if data.get(FORMAT_KEY) != FORMAT_VERSION:
            raise PolicyError(f"not a tesserad policy export (expected {FORMAT_KEY!r}: {FORMAT_VERSION})",
                              field=FILE)
        data = data.get("policies")
    if not isinstance(data, list) or not all(isinstance(p, Mapping) for p in data):
        raise PolicyError("expected a list of policies", field=FILE)
    entries = []
    for number, policy in enumerate(data, 1):
        if not isinstance(policy.get("name"), str):
            raise PolicyError(f"policy {number} has no name", field=FILE)
        entries.append((policy["name"], {k: v for k, v in policy.items() if k != "name"}))
    return entries


def _privacyidea(text: str) -> list[tuple[str, dict[str, Any]]]:
    entries: list[tuple[str, dict[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            entries.append((line[1:-1].strip(), {}))
            continue
        key, eq, value = (part.strip() for part in line.partition("="))
        if not entries or not eq:
            raise PolicyError(f"line {number}: expected '[policy name]' or 'key = value'", field=FILE)
        if key in FIELDS:
            entries[-1][1][key] = value if key in _TEXT_KEYS else _literal(value)
    return entries


def _literal(value: str) -> Any:
    """A Python literal (``['r1']``, ``{'tokenlist': True}``), else the text as written
    (older exports have ``action = tokenlist, enable``)."""
    try:
        return ast.literal_eval(value) if value else None
    except (ValueError, SyntaxError):
        return value
