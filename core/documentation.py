"""``GET /system/documentation``: the whole configuration as one reStructuredText document.

Operators keep it with their change records or print it for an audit. It is built from
the same listings the API returns, so secrets appear only as ``__CENSORED__``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from tesserad.core.policy.store import PolicyStore
from tesserad.core.sysconfig import SystemConfig
from tesserad.core.users.directory import Directory


def _heading(text: str, underline: str) -> list[str]:
    return [text, underline * len(text), ""]


def _field_list(values: Mapping[str, Any]) -> list[str]:
    """``:key: value`` lines; empty values are left out, lists joined by commas."""
    lines = []
    for key, value in values.items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, Mapping):
            value = ", ".join(k if v is True else f"{k}={v}" for k, v in value.items())
        text = str(value).replace("\n", " ")
        if text:
            lines.append(f":{key}: {text}")
    return lines + [""]


def _section(title: str, entries: Iterable[tuple[str, Mapping[str, Any]]], empty: str) -> list[str]:
    lines = _heading(title, "-")
    found = False
    for name, values in entries:
        found = True
        lines += _heading(name, "~") + _field_list(values)
    return lines if found else lines + [empty, ""]


def documentation(session: Session, sysconfig: SystemConfig, directory: Directory, policies: PolicyStore,
                  title: str = "tesserad configuration") -> str:
    """The document: system settings, resolvers, realms (with the default) and policies."""
    described = sysconfig.descriptions(session)
    settings = {key: f"{value} ({described[key][1]})" if described.get(key, ("", ""))[1] else value
                for key, value in sysconfig.listing(session).items()}
    resolvers = directory.list_resolvers(session)
    realms = directory.list_realms(session)
    lines = _heading(title, "=")
    lines += _heading("System settings", "-") + _field_list(settings)
    lines += _section("Resolvers", ((name, {"type": r["type"], **r["data"]}) for name, r in resolvers.items()),
                      "No resolvers are defined.")
    lines += _section("Realms", ((name, {
        "default": "yes" if realm["default"] else "",
        "resolvers": [f"{m['name']} (priority {m['priority']})" if m["priority"] is not None else m["name"]
                      for m in realm["resolver"]]}) for name, realm in realms.items()),
        "No realms are defined.")
    lines += _section("Policies", ((p["name"], {k: v for k, v in p.items() if k != "name"})
                                   for p in policies.get_policies(session)), "No policies are defined.")
    return "\n".join(lines)
