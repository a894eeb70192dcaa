"""tesserad-manage as an operator uses it: keys, schema, admins, config check, exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, clean_env, daemon_config, manage, write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    data = daemon_config(tmp_path)
    data["database"] = {"url": f"sqlite:///{tmp_path}/data/tesserad.db"}
    return write_config(tmp_path, data)


def test_keys_create_refuses_to_overwrite(config: Path, tmp_path: Path) -> None:
    first = manage("keys", "create", config=config)
    assert first.returncode == 0 and "secrets.key" in first.stdout
    before = (tmp_path / "data" / "keys" / "secrets.key").read_bytes()
    again = manage("keys", "create", config=config)
    assert again.returncode == 1
    assert "refusing to overwrite existing key file" in again.stderr
    assert (tmp_path / "data" / "keys" / "secrets.key").read_bytes() == before


def test_db_upgrade_then_status(config: Path) -> None:
    missing = manage("db", "status", config=config)
    assert missing.returncode == 1 and "data does not exist" in missing.stderr
    upgrade = manage("db", "upgrade", config=config)
    assert upgrade.returncode == 0 and "schema created" in upgrade.stdout
    assert "schema current" in manage("db", "upgrade", config=config).stdout
    assert ": current" in manage("db", "status", config=config).stdout


def test_admin_lifecycle(config: Path) -> None:
    manage("keys", "create", config=config)
    refused = manage("admin", "list", config=config)
    assert refused.returncode == 1 and "db upgrade" in refused.stderr
    manage("db", "upgrade", config=config)

    added = manage("admin", "add", "helpdesk", "--email", "hd@example.org", config=config,
                   stdin="correct horse\n")
    assert added.returncode == 0, added.stderr
    duplicate = manage("admin", "add", "helpdesk", config=config, stdin="another one\n")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    listing = manage("admin", "list", config=config).stdout
    assert "helpdesk\thd@example.org" in listing

    assert manage("admin", "verify", "helpdesk", config=config, stdin="correct horse\n").returncode == 0
    assert manage("admin", "passwd", "helpdesk", config=config, stdin="battery staple\n").returncode == 0
    assert manage("admin", "verify", "helpdesk", config=config, stdin="correct horse\n").returncode == 1
    assert manage("admin", "verify", "helpdesk", config=config, stdin="battery staple\n").returncode == 0
    assert manage("admin", "verify", "nobody", config=config, stdin="battery staple\n").returncode == 1

    assert manage("admin", "delete", "helpdesk", config=config).returncode == 0
    assert manage("admin", "list", config=config).stdout.strip() == "no admins"
    missing = manage("admin", "delete", "helpdesk", config=config)
    assert missing.returncode == 1 and "no admin named 'helpdesk'" in missing.stderr


@pytest.mark.parametrize("name, password, reason", [
    ("bad name!", "long enough", "admin name must be"),
    ("short", "1234567", "at least 8 characters"),
])
def test_admin_add_validates_input(config: Path, name: str, password: str, reason: str) -> None:
    manage("keys", "create", config=config)
    manage("db", "upgrade", config=config)
    result = manage("admin", "add", name, config=config, stdin=password + "\n")
    assert result.returncode == 1 and reason in result.stderr
    assert "no admins" in manage("admin", "list", config=config).stdout


def test_admin_add_without_a_password_on_stdin(config: Path) -> None:
    manage("keys", "create", config=config)
    manage("db", "upgrade", config=config)
    result = manage("admin", "add", "someone", config=config, stdin="")
    assert result.returncode == 2 and "no password on standard input" in result.stderr


def test_config_check_prints_the_effective_config_with_secrets_masked(tmp_path: Path) -> None:
    data = daemon_config(tmp_path)
    data["database"] = {"url": "postgresql+psycopg://tess:hunter22@db.example/tess"}
    config = write_config(tmp_path, data)
    result = manage("config", "check", config=config)
    assert result.returncode == 0
    assert f"configuration is valid: {config}" in result.stdout
    assert 'url = "postgresql+psycopg://tess:********@db.example/tess"' in result.stdout
    assert "hunter22" not in result.stdout
    assert "[radius]" in result.stdout and "auth_listen" in result.stdout


def test_config_check_reports_errors_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[log]\nlevel = 3\n")
    result = manage("config", "check", config=bad)
    assert result.returncode == 2
    assert result.stderr.strip() == f"tesserad-manage: {bad}: log.level: expected a string, got an integer"


@pytest.mark.parametrize("words", [[], ["db"], ["keys"], ["admin"], ["admin", "add"], ["config"],
                                   ["admin", "passwd"], ["admin", "verify"]])
def test_every_subcommand_has_help(words: list[str]) -> None:
    result = subprocess.run([str(BIN / "tesserad-manage"), *words, "--help"], capture_output=True,
                            text=True, env=clean_env(), timeout=30)
    assert result.returncode == 0 and result.stdout.startswith("usage: tesserad-manage")


def test_usage_errors_exit_2() -> None:
    result = subprocess.run([str(BIN / "tesserad-manage"), "admin", "frobnicate"], capture_output=True,
                            text=True, env=clean_env(), timeout=30)
    assert result.returncode == 2 and "invalid choice" in result.stderr
