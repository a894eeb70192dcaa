"""``tesserad-manage policy ...`` as the admin who locked everyone out uses it: the real
command on a SQLite and a PostgreSQL database, no daemon, no login."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update

from tesserad.core.store import Database
from tesserad.core.store.models import Policy

from tests.helpers import daemon_config, manage, write_config

LOCKOUT = {"tesserad-policies": 1, "policies": [
    {"name": "lockout", "scope": "admin", "action": {"tokenlist": True}, "realm": ["nowhere"]},
    {"name": "pins", "scope": "authentication", "action": {"otppin": "userstore"}, "priority": 2}]}
PRIVACYIDEA_EXPORT = """\
[texts]
scope = authentication
action = {'otppin': 'tokenpin', 'u2f_challenge_text': 'Your code <otp>', 'push_wait': '20'}
active = True

[helpdesk]
scope = admin
action = tokenlist, privacyideaserver_write
active = True
"""


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    data = daemon_config(tmp_path)
    data["database"] = {"url": db_url}
    path = write_config(tmp_path, data)
    for words in (("keys", "create"), ("db", "upgrade")):
        done = manage(*words, config=path)
        assert done.returncode == 0, done.stderr
    return path


def ok(*words: str, config: Path, stdin: str = "") -> str:
    result = manage("policy", *words, config=config, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_lockout_recovery(config: Path, tmp_path: Path) -> None:
    exported = tmp_path / "policies.json"
    exported.write_text(json.dumps(LOCKOUT))
    assert ok("import", str(exported), config=config).strip() == "imported 2 policies"
    assert ok("list", config=config).splitlines() == [
        "lockout\tadmin\tactive\tpriority 1\ttokenlist", "pins\tauthentication\tactive\tpriority 2\totppin=userstore"]
    assert ok("list", "--scope", "authentication", config=config).startswith("pins\t")
    assert json.loads(ok("show", "lockout", config=config))["realm"] == ["nowhere"]

    assert ok("disable", "lockout", config=config).strip() == "disabled policy lockout"
    assert "lockout\tadmin\tinactive" in ok("list", config=config)
    assert ok("enable", "lockout", config=config).strip() == "enabled policy lockout"
    assert ok("delete", "lockout", config=config).strip() == "deleted policy lockout"
    assert [p["name"] for p in json.loads(ok("export", config=config))["policies"]] == ["pins"]
    assert ok("export", "-o", str(tmp_path / "out.json"), config=config).strip() == \
        f"exported 1 policies to {tmp_path / 'out.json'}"
    assert json.loads((tmp_path / "out.json").read_text())["policies"][0]["action"] == {"otppin": "userstore"}

    missing = manage("policy", "show", "lockout", config=config)
    assert missing.returncode == 1 and "no policy is named 'lockout'" in missing.stderr
    assert manage("policy", "disable", "lockout", config=config).returncode == 1


def test_import_names_every_unsupported_action_and_imports_nothing(config: Path, tmp_path: Path) -> None:
    export = tmp_path / "pi.cfg"
    export.write_text(PRIVACYIDEA_EXPORT)
    refused = manage("policy", "import", str(export), config=config)
    assert refused.returncode == 1
    for policy, action in (("texts", "u2f_challenge_text"), ("texts", "push_wait"),
                           ("helpdesk", "privacyideaserver_write")):
        assert f"policy {policy!r}: {action!r}" in refused.stderr
    assert ok("list", config=config).strip() == "no policies"

    skipped = ok("import", "--skip-unsupported", "-", config=config, stdin=PRIVACYIDEA_EXPORT).splitlines()
    assert skipped == ["imported 2 policies", "dropped from policy 'texts': u2f_challenge_text (not supported yet)",
                       "dropped from policy 'texts': push_wait (not supported yet)",
                       "dropped from policy 'helpdesk': privacyideaserver_write (not supported yet)"]
    assert ok("list", config=config).splitlines() == [
        "helpdesk\tadmin\tactive\tpriority 1\ttokenlist", "texts\tauthentication\tactive\tpriority 1\totppin=tokenpin"]


def test_config_check_and_policy_commands_report_policies_of_earlier_versions(
        config: Path, db_url: str, tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps(LOCKOUT))
    ok("import", str(tmp_path / "p.json"), config=config)
    database = Database(db_url)
    try:  # as an earlier version stored it, without refusing
        with database.session() as session:
            session.execute(update(Policy).where(Policy.name == "pins").values(
                action="otppin=userstore, u2f_challenge_text='Kx9-value <otp>', push_wait=20"))
            session.commit()
    finally:
        database.dispose()
    check = manage("config", "check", config=config)
    assert check.returncode == 0, check.stderr
    warnings = [line for line in check.stdout.splitlines() if line.startswith("# warning")]
    assert warnings == ["# warning: policy 'pins' (authentication) has actions tesserad does not enforce yet, "
                        "which are ignored: u2f_challenge_text, push_wait"]
    assert "Kx9-value" not in check.stdout
    # The policy still works for what it enforces, and can be switched off and on as it is.
    assert ok("disable", "pins", config=config).strip() == "disabled policy pins"
    ok("enable", "pins", config=config)
    assert json.loads(ok("show", "pins", config=config))["action"] == {
        "otppin": "userstore", "u2f_challenge_text": "'Kx9-value <otp>'", "push_wait": "20"}


def test_config_check_without_a_database(tmp_path: Path) -> None:
    config = write_config(tmp_path, daemon_config(tmp_path))
    check = manage("config", "check", config=config)
    assert check.returncode == 0, check.stderr
    assert "# stored policies not checked:" in check.stdout


@pytest.mark.parametrize("words", [["policy"], ["policy", "import"], ["policy", "list"], ["policy", "actions"]])
def test_policy_help(words: list[str]) -> None:
    result = manage(*words, "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage: tesserad-manage policy")


def test_unreadable_import_file_is_one_line(config: Path, tmp_path: Path) -> None:
    missing = manage("policy", "import", str(tmp_path / "nope.json"), config=config)
    assert missing.returncode == 1 and missing.stderr.strip().endswith("No such file or directory")
    assert "Traceback" not in missing.stderr
