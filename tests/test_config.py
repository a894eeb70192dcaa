"""Config parsing: defaults, validation with file/key/reason, lookup order, display."""

from __future__ import annotations

from pathlib import Path

import pytest

from tesserad.core.config import effective
from tesserad.core.errors import ConfigError
from tesserad.daemon import config as cfg


def load_text(tmp_path: Path, text: str) -> cfg.Config:
    path = tmp_path / "t.toml"
    path.write_text(text)
    return cfg.load(str(path), env={}, cwd=tmp_path)


def test_embedded_default_lives_in_var_of_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cfg, "SYSTEM_CONFIG_PATH", tmp_path / "absent.toml")
    config = cfg.load(None, env={}, cwd=tmp_path)
    assert config.source == "<embedded default>"
    assert config.data_dir == tmp_path / "var"
    assert config.database.url == f"sqlite:///{tmp_path}/var/tesserad.db"
    assert config.pam.listen == [f"unix:{tmp_path}/var/pam.sock:mode=660"]
    assert config.key_dir == tmp_path / "var" / "keys"
    assert config.web.listen == ["tcp:8080:interface=127.0.0.1"]
    assert config.radius.auth_listen == ["127.0.0.1:1812"]
    assert (config.log.level, config.log.format) == ("info", "text")


def test_xdg_data_home_moves_the_default_data_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cfg, "SYSTEM_CONFIG_PATH", tmp_path / "absent.toml")
    config = cfg.load(None, env={"XDG_DATA_HOME": str(tmp_path / "xdg")}, cwd=tmp_path)
    assert config.data_dir == tmp_path / "xdg" / "tesserad"


def test_lookup_order_cli_then_env_then_system(tmp_path: Path, monkeypatch) -> None:
    system = tmp_path / "system.toml"
    system.write_text('[log]\nlevel = "warn"\n')
    env_file = tmp_path / "env.toml"
    env_file.write_text('[log]\nlevel = "error"\n')
    cli = tmp_path / "cli.toml"
    cli.write_text('[log]\nlevel = "debug"\n')
    monkeypatch.setattr(cfg, "SYSTEM_CONFIG_PATH", system)
    env = {cfg.CONFIG_ENV: str(env_file)}
    assert cfg.load(str(cli), env=env, cwd=tmp_path).log.level == "debug"
    assert cfg.load(None, env=env, cwd=tmp_path).log.level == "error"
    assert cfg.load(None, env={}, cwd=tmp_path).log.level == "warn"


def test_a_full_file_is_read(tmp_path: Path) -> None:
    config = load_text(tmp_path, """
[server]
data_dir = "state"
threads = 4
[database]
url = "postgresql+psycopg://tess:pw@db.example/tess"
auto_upgrade = false
[web]
listen = ["tcp:8443:interface=::1", "unix:{data_dir}/web.sock"]
[radius]
auth_listen = ["[::1]:1812", "0.0.0.0:11812"]
acct_listen = []
[log]
level = "debug"
format = "json"
""")
    assert config.data_dir == tmp_path / "state"
    assert config.server.threads == 4
    assert config.database.auto_upgrade is False
    assert config.web.listen[1] == f"unix:{tmp_path}/state/web.sock"
    assert config.radius.acct_listen == []
    assert config.log.format == "json"


@pytest.mark.parametrize("text, key, reason", [
    ("[nosuch]\na = 1\n", "nosuch", "unknown section"),
    ("[server]\ndatadir = 'x'\n", "server.datadir", "unknown key"),
    ("[server]\nthreads = '4'\n", "server.threads", "expected an integer, got a string"),
    ("[server]\nthreads = true\n", "server.threads", "expected an integer, got a boolean"),
    ("[server]\nthreads = 0\n", "server.threads", "must be a positive integer"),
    ("[database]\nauto_upgrade = 1\n", "database.auto_upgrade", "expected a boolean (true/false), got an integer"),
    ("[web]\nlisten = 'tcp:80'\n", "web.listen", "expected a list, got a string"),
    ("[web]\nlisten = [80]\n", "web.listen[0]", "expected a string, got an integer"),
    ("[log]\nlevel = 'loud'\n", "log.level", "must be one of debug, info, warn, error, critical"),
    ("[radius]\nauth_listen = ['localhost:1812']\n", "radius.auth_listen", "is not an IP address"),
    ("[radius]\nauth_listen = ['127.0.0.1:99999']\n", "radius.auth_listen", "port must be a number"),
    ("[radius]\nauth_listen = ['127.0.0.1']\n", "radius.auth_listen", "host:port"),
    ("server = 3\n", "server", "must be a table"),
    ("[database]\nurl = 'sqlite:///{nope}/x.db'\n", "database.url", "bad placeholder"),
])
def test_bad_values_name_file_key_and_reason(tmp_path: Path, text: str, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    assert caught.value.path == str(tmp_path / "t.toml")
    assert caught.value.key == key
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{tmp_path / 't.toml'}: {key}: ")


def test_bad_toml_is_reported_with_its_position(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"t\.toml: invalid TOML: .*line 2"):
        load_text(tmp_path, "[server]\nthreads = = 3\n")


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="absent.toml: file not found"):
        cfg.load(str(tmp_path / "absent.toml"), env={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="cannot read"):
        cfg.load(str(tmp_path), env={}, cwd=tmp_path)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe[server]")
    with pytest.raises(ConfigError, match="cannot read"):
        cfg.load(str(binary), env={}, cwd=tmp_path)


def test_effective_config_masks_the_database_password(tmp_path: Path) -> None:
    config = load_text(tmp_path, '[database]\nurl = "postgresql+psycopg://tess:s3cret@db/tess"\n')
    shown = effective(config)
    assert shown["database"]["url"] == "postgresql+psycopg://tess:********@db/tess"
    assert "s3cret" not in repr(shown)


def test_every_setting_is_documented() -> None:
    rows = cfg.documentation()
    assert {key for key, _, _ in rows} >= {"server.data_dir", "database.url", "web.listen",
                                           "radius.auth_listen", "radius.acct_listen", "pam.listen",
                                           "log.level", "log.format"}
    assert all(doc.strip() for _, _, doc in rows)


def test_readme_documents_every_setting() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    missing = [key for key, _, _ in cfg.documentation() if f"`{key}`" not in readme]
    assert not missing, f"README lacks {missing}"
