"""Which test shows the effect of which policy action: the ``policy_action(scope, name)``
markers of tests/, read from the source (decorators, ``marks=`` of ``pytest.param`` and a
module's ``pytestmark``),
so no test has to run and the markers must be literal strings.

``python -m tests.policy_coverage`` prints, per scope, every action with ``enforced_by``
and the tests that cover it, then the enforced actions without a test, the markers that
name an action that is not enforced (both are what the registry meta-test refuses) and the
actions whose module names them only in a pattern (``f"enroll{type}"``), not as a literal.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tesserad.core.policy.actions import REGISTRY

TESTS = Path(__file__).parent
SOURCE = TESTS.parent


def _markers(node: ast.AST) -> Iterator[tuple[str, str]]:
    """Every ``pytest.mark.policy_action("scope", "name")`` call below ``node``."""
    for call in ast.walk(node):
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr == "policy_action" and len(call.args) == 2
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)):
            yield call.args[0].value, call.args[1].value  # type: ignore[union-attr]


def covering_tests(root: Path = TESTS) -> dict[tuple[str, str], list[str]]:
    """(scope, action) -> the tests (``path::function``) whose markers name it."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), str(path))
        # a module's ``pytestmark`` covers the module as a whole
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "pytestmark" for t in statement.targets):
                for key in dict.fromkeys(_markers(statement.value)):
                    found.setdefault(key, []).append(str(path.relative_to(root.parent)))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                # markers on the function, and in pytest.param(..., marks=...) of its parametrize
                for key in dict.fromkeys(m for d in node.decorator_list for m in _markers(d)):
                    found.setdefault(key, []).append(f"{path.relative_to(root.parent)}::{node.name}")
    return found


def named_literally(scope: str, name: str) -> bool:
    """Whether the module that enforces the action holds its name as a string literal."""
    module = REGISTRY[scope][name].enforced_by or ""
    text = (SOURCE / (module.replace(".", "/") + ".py")).read_text()
    return f'"{name}"' in text or f"'{name}'" in text


def main() -> None:
    covered = covering_tests()
    missing, total = [], 0
    for scope, actions in REGISTRY.items():
        enforced = [a for a in actions.values() if a.enforced_by]
        if not enforced:
            continue
        print(f"== {scope}: {len(enforced)} enforced, "
              f"{sum((scope, a.name) in covered for a in enforced)} with a test")
        for action in enforced:
            tests = covered.get((scope, action.name), [])
            total += 1
            if not tests:
                missing.append(f"{scope}/{action.name}")
            print(f"  {action.name} [{action.enforced_by}]: {', '.join(tests) or 'NO TEST'}")
    stray = sorted(f"{s}/{n}" for s, n in covered if not (REGISTRY.get(s, {}).get(n) and REGISTRY[s][n].enforced_by))
    print(f"\n{total} enforced actions, {total - len(missing)} with a test")
    print(f"enforced without a test ({len(missing)}): {' '.join(missing) or '-'}")
    print(f"markers naming an action that is not enforced ({len(stray)}): {' '.join(stray) or '-'}")
    patterns = [f"{s}/{a.name}" for s, actions in REGISTRY.items() for a in actions.values()
                if a.enforced_by and not named_literally(s, a.name)]
    print(f"enforced, named only by a pattern in the module ({len(patterns)}): {' '.join(patterns) or '-'}")


if __name__ == "__main__":
    main()
