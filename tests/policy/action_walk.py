"""Static walks over tesserad's source and tests: which action names the code reads through
the policy API, which strings a module holds, and which actions the tests say they show.

Everything is read with ``ast``: nothing is imported or executed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tesserad
from tesserad.core.policy import actions as catalogue

PACKAGE = Path(tesserad.__file__).resolve().parent.parent
SOURCE_DIRS = ("core", "admin_web", "radius", "pam_module", "daemon")
# Methods and classes whose first string argument (or ``action=``) is an action name.
READERS = {"PolicyQuery", "with_action", "require", "require_somewhere", "allowed", "allowed_somewhere",
           "realms", "value", "switch", "words", "max_int", "mentions", "Access"}
# Modules whose module-level dicts map settings to action names.
ACTION_DICTS = ("core/policy/auth.py", "core/webui.py")
SCOPE_NAMES = {name: getattr(catalogue, name) for name in ("ADMIN", "USER", "AUTH", "AUTHZ", "ENROLL", "WEBUI",
                                                              "REGISTER")}


def source_files() -> Iterator[Path]:
    for directory in SOURCE_DIRS:
        yield from sorted((PACKAGE / directory).rglob("*.py"))


def module_path(module: str) -> Path:
    """The file of ``module`` (dotted, below ``tesserad.``)."""
    base = PACKAGE.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _pattern(node: ast.JoinedStr) -> re.Pattern[str]:
    parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in node.values]
    return re.compile("".join(parts))


def names_in(path: Path) -> tuple[set[str], list[re.Pattern[str]]]:
    """The string literals of a file, and its f-strings as patterns."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    patterns = [_pattern(n) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)]
    return strings, patterns


def holds(path: Path, text: str) -> bool:
    """Whether the file has ``text`` as a string literal, or an f-string that makes it."""
    strings, patterns = names_in(path)
    return text in strings or any(p.fullmatch(text) for p in patterns)


@dataclass(frozen=True)
class Read:
    """An action name the code reads: where, and in which scope when the code says."""

    where: str
    name: str
    scope: str | None


def _scope(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return SCOPE_NAMES.get(node.id)
    return None


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def reads(path: Path) -> Iterator[Read]:
    """Action names ``path`` reads through the policy API (constant names only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = str(path.relative_to(PACKAGE))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node) in READERS:
            keywords = {k.arg: k.value for k in node.keywords}
            scope = _scope(keywords.get("scope"))
            argument = keywords.get("action")
            if argument is None and node.args:
                # mentions(scope, action); every other reader names the action first
                argument = node.args[1] if _callee(node) == "mentions" and len(node.args) > 1 else node.args[0]
                if _callee(node) == "mentions":
                    scope = _scope(node.args[0])
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                yield Read(f"{where}:{node.lineno}", argument.value, scope)
    if where in ACTION_DICTS:
        for node in tree.body:
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            if isinstance(value, ast.Dict):
                for item in value.values:
                    for leaf in ast.walk(item):
                        if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str):
                            yield Read(f"{where}:{leaf.lineno}", leaf.value, None)
