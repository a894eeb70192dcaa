"""The seam between the edges and the core, checked on the source: no module but the engine
itself touches the engine's private members, and the authentication edges (RADIUS Access-Requests, PAM,
``/validate/``) open no database session: their work goes AuthRequest -> AuthService ->
AuthResult. (admin_web's REST resources run in their Call's session and are not covered.)

The import-linter contract "The authentication edges do no SQL of their own" (pyproject.toml)
keeps SQLAlchemy and the store out of their imports; a session is opened without an import
(``ctx.database.session()``), so here no ``database`` attribute may be touched at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "admin_web", "radius", "pam_module", "daemon")
# The edges whose work is authentication.
AUTH_EDGES = ("radius", "pam_module", "admin_web/validate.py")


def sources(*roots: str) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        path = ROOT / root
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return found


def named(node: ast.expr) -> str | None:
    """The last name of ``engine``, ``self._engine``, ``ctx.auth.engine``..."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def private_engine_uses(tree: ast.AST) -> list[str]:
    return [f"line {node.lineno}: .{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
            and (named(node.value) or "").lstrip("_") == "engine"]


def database_uses(tree: ast.AST) -> list[str]:
    """Every ``x.database`` / ``x._database``: a session, the engine, a ping, all go through it."""
    return [f"line {node.lineno}: {ast.unparse(node)}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr.lstrip("_") == "database"]


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", sources(*PACKAGES), ids=relative)
def test_no_module_touches_the_engines_private_members(path: Path) -> None:
    """Stricter than "outside core/auth/": the service too uses the engine's public operations."""
    assert private_engine_uses(ast.parse(path.read_text())) == []


@pytest.mark.parametrize("path", sources(*AUTH_EDGES), ids=relative)
def test_authentication_edges_open_no_database_session(path: Path) -> None:
    assert database_uses(ast.parse(path.read_text())) == []


def test_the_checks_find_what_they_look_for() -> None:
    """Both checks catch the shapes this seam had before (so a green run means something)."""
    before = ast.parse("state = self.engine._state(session, req)\n"
                       "tokens = engine._tokens_of(session, state, user)\n"
                       "with self._auth.database.session() as session:\n    pass\n"
                       "with self._database.session() as session:\n    pass\n"
                       "context.database.engine.connect()\n")
    assert private_engine_uses(before) == ["line 1: ._state", "line 2: ._tokens_of"]
    assert database_uses(before) == ["line 3: self._auth.database", "line 5: self._database",
                                     "line 7: context.database"]
    fine = ast.parse("result = self.engine.trigger(session, req)\nengine.__class__\nsession.commit()\n"
                     "database = 'a name is not a use'\n")
    assert private_engine_uses(fine) == [] and database_uses(fine) == []
