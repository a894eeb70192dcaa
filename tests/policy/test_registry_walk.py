"""Offered = enforced, checked against the source (issue 17): every offered action names a
module whose code holds its name, every action name the code reads is offered, every
offered action has a test that shows its effect, and the README lists what is offered."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tesserad.core.policy.actions import CATALOGUE, IMPLEMENTED_TYPES, REGISTRY, USER, catalogued
from tesserad.core.tokens.registry import load_all
from tesserad.daemon.manage_policy import actions_table

from tests.policy.action_walk import PACKAGE, holds, module_path, reads, source_files
from tests.policy_coverage import covering_tests

OFFERED = sorted((scope, name) for scope, actions in REGISTRY.items() for name in actions)
TESTS = Path(__file__).resolve().parent.parent


def test_implemented_types_are_the_token_registry() -> None:
    types = load_all()
    assert set(IMPLEMENTED_TYPES) == set(types)
    user_enroll = {name[len("enroll"):].lower() for name, a in REGISTRY[USER].items() if a.family}
    assert user_enroll == {name for name, cls in types.items() if cls.user_enrollable}


@pytest.mark.parametrize("scope, name", OFFERED)
def test_the_enforcing_module_holds_the_action(scope: str, name: str) -> None:
    action = REGISTRY[scope][name]
    assert action.enforced_by is not None
    path = module_path(action.enforced_by)
    assert path.is_file(), f"{scope}/{name}: enforced_by names {action.enforced_by!r}, which does not exist"
    # A family is read by its pattern: enroll{TYPE} as an f-string, <type>_max_token_per_user by its suffix.
    fixed = re.sub(r"<\w+>_?", "", action.family) if action.family else None
    assert holds(path, name) or (fixed is not None and holds(path, fixed)), \
        f"{scope}/{name}: {action.enforced_by} has no string literal {name!r}"


def test_every_action_the_code_reads_is_offered() -> None:
    known = {name for actions in CATALOGUE.values() for name in actions}
    found = [read for path in source_files() for read in reads(path) if read.name in known]
    assert len(found) > 100  # the walk sees the reads at all
    not_offered = [read for read in found
                   if not (read.name in REGISTRY.get(read.scope, {}) if read.scope
                           else any(read.name in actions for actions in REGISTRY.values()))]
    assert not_offered == [], "read but not offered (add enforced_by, or stop reading it)"


def test_catalogue_tells_not_supported_from_unknown() -> None:
    assert catalogued("authentication", "passthru_assign") is not None
    assert "passthru_assign" not in REGISTRY["authentication"]
    assert catalogued("authentication", "nosuchaction") is None
    limits = {n for n, a in CATALOGUE["enrollment"].items() if a.family and a.offered}
    assert limits == {f"{t}_max{kind}_token_per_user" for t in IMPLEMENTED_TYPES for kind in ("", "_active")}
    assert {n for n, a in CATALOGUE["admin"].items() if a.family and a.offered} == \
        {f"enroll{t.upper()}" for t in IMPLEMENTED_TYPES}


def test_the_walk_tells_a_module_that_does_not_hold_an_action() -> None:
    assert holds(module_path("core.policy.auth"), "otppin")
    assert not holds(module_path("core.policy.auth"), "passthru_assign")
    assert holds(module_path("core.enrollment"), "enrollHOTP")  # f"enroll{...}"


def test_every_offered_action_has_a_test_that_shows_it() -> None:
    marked = covering_tests(TESTS)
    unknown = sorted(key for key in marked if key not in set(OFFERED))
    assert unknown == [], f"tests mark actions that are not offered: {unknown}"
    missing = [f"{scope}/{name}" for scope, name in OFFERED if (scope, name) not in marked]
    assert missing == [], f"{len(missing)} offered actions have no @pytest.mark.policy_action test: {missing}"


def test_readme_lists_the_offered_actions() -> None:
    readme = (PACKAGE / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- policy-actions:begin -->\n(.*?)<!-- policy-actions:end -->", readme, re.S)
    assert block is not None
    assert block.group(1) == actions_table(markdown=True) + "\n", \
        "README is out of date: run python scripts/policy_actions_readme.py"
