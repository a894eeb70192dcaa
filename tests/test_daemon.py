"""The daemon as a user runs it: start, /healthz, SIGHUP, SIGTERM, and refusing bad starts."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tesserad import __version__

from tests.daemon_process import DaemonProcess
from tests.helpers import BIN, clean_env, daemon_config, manage, require, write_config
from tests.ldap.hung import HungServer
from tests.provision import add_realm, provision_hotp_people


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[list[DaemonProcess]]:
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        daemon.close()


def spawn(daemons: list[DaemonProcess], workdir: Path, config: Path | None, **kwargs: Any) -> DaemonProcess:
    daemon = DaemonProcess(workdir, config, **kwargs)
    daemons.append(daemon)
    return daemon


def web_url(data: dict[str, Any]) -> str:
    port = data["web"]["listen"][0].split(":")[1]
    return f"http://127.0.0.1:{port}"


def get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def healthy(body: dict[str, Any]) -> bool:
    """A /healthz body of a daemon that is up: its reactor's lag is whatever startup left."""
    lag = body.pop("reactor")["max_lag_ms_1m"]
    return isinstance(lag, float) and lag >= 0 and body == {
        "status": "ok", "version": __version__, "database": {"reachable": True}}


def initial_password(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("Password: ")]
    assert len(lines) == 1, stdout
    return lines[0].removeprefix("Password: ")


def test_start_serve_reload_and_stop(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    data = daemon_config(tmp_path)
    config = write_config(tmp_path, data)
    daemon = spawn(daemons, tmp_path / "run", config).start()

    status, body = get_json(web_url(data) + "/healthz")
    assert status == 200
    assert healthy(body)

    password = initial_password(daemon.stdout)
    assert password not in daemon.stderr
    assert manage("admin", "verify", "admin", config=config, stdin=password + "\n").returncode == 0
    wrong = manage("admin", "verify", "admin", config=config, stdin="not-the-password\n")
    assert wrong.returncode == 1 and "wrong name or password" in wrong.stderr

    data["log"] = {"level": "debug"}
    data["radius"] = {"auth_listen": ["127.0.0.1:11812"]}
    config.write_text(tomli_w.dumps(data))
    daemon.signal(signal.SIGHUP)
    assert "MONOTONIC_USEC=" in daemon.expect("RELOADING=1")
    daemon.expect("READY=1")
    assert "reloaded configuration: log.level info -> debug" in daemon.stderr
    assert "radius.auth_listen or radius.acct_listen changed; it takes effect after a restart" in daemon.stderr

    config.write_text("this is [not toml")
    daemon.signal(signal.SIGHUP)
    daemon.signal(signal.SIGTERM)
    daemon.expect("STOPPING=1")
    assert daemon.wait() == 0
    assert "reload refused, keeping the running configuration" in daemon.stderr
    assert "] stopped\n" in daemon.stderr


def test_second_start_reuses_keys_database_and_admin(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    data = daemon_config(tmp_path)
    config = write_config(tmp_path, data)
    first = spawn(daemons, tmp_path / "one", config).start()
    password = initial_password(first.stdout)
    assert first.stop() == 0
    keys = {p.name: p.read_bytes() for p in (tmp_path / "data" / "keys").iterdir()}

    second = spawn(daemons, tmp_path / "two", config).start()
    assert "Password" not in second.stdout
    assert second.stop() == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "data" / "keys").iterdir()} == keys
    assert manage("admin", "verify", "admin", config=config, stdin=password + "\n").returncode == 0
    listing = manage("admin", "list", config=config)
    assert listing.stdout.count("admin") == 1


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_embedded_default_in_the_working_directory(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    require(not Path("/etc/tesserad/tesserad.toml").exists(),
            "/etc/tesserad/tesserad.toml exists, so the embedded default is not used here")
    require(port_free(8080), "the embedded default's port 127.0.0.1:8080 is taken on this machine")
    daemon = spawn(daemons, tmp_path / "run", None, cwd=tmp_path).start()
    assert (tmp_path / "var" / "tesserad.db").exists()
    assert (tmp_path / "var" / "keys" / "secrets.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "var").stat().st_mode & 0o777 == 0o700
    assert get_json("http://127.0.0.1:8080/healthz")[0] == 200
    initial_password(daemon.stdout)
    assert daemon.stop() == 0


def broken_cases(tmp_path: Path) -> dict[str, tuple[str, str]]:
    good = daemon_config(tmp_path)
    afile = tmp_path / "a-file"
    afile.write_text("")
    return {
        "bad toml": ("[server\n", "invalid TOML"),
        "unknown key": (tomli_w.dumps({**good, "web": {"listen": good["web"]["listen"], "port": 1}}),
                        "web.port: unknown key"),
        "bad endpoint": (tomli_w.dumps({**good, "web": {"listen": ["tcp:notaport"]}}),
                         "web.listen[0]: bad endpoint"),
        "unwritable data dir": (tomli_w.dumps({**good, "server": {"data_dir": str(afile / "data")}}),
                                "is not a directory"),
    }


@pytest.mark.parametrize("case", ["bad toml", "unknown key", "bad endpoint", "unwritable data dir"])
def test_broken_config_exits_2_with_one_line_and_creates_nothing(tmp_path: Path, case: str,
                                                                 daemons: list[DaemonProcess]) -> None:
    text, reason = broken_cases(tmp_path)[case]
    config = tmp_path / "broken.toml"
    config.write_text(text)
    daemon = spawn(daemons, tmp_path / "run", config).start(wait=False)
    assert daemon.wait() == 2
    error_lines = [line for line in daemon.stderr.splitlines() if line.startswith("tesserad: ")]
    assert len(error_lines) == 1 and reason in error_lines[0], daemon.stderr
    assert not (tmp_path / "data").exists()


def test_port_in_use_exits_2_and_creates_nothing(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = daemon_config(tmp_path, web={"listen": [f"tcp:{port}:interface=127.0.0.1"]})
        daemon = spawn(daemons, tmp_path / "run", write_config(tmp_path, data)).start(wait=False)
        assert daemon.wait() == 2
    assert f"web.listen[0]: cannot listen on 'tcp:{port}:interface=127.0.0.1'" in daemon.stderr
    assert "Address already in use" in daemon.stderr
    assert not (tmp_path / "data").exists()


def test_world_readable_key_file_stops_the_start(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    config = write_config(tmp_path, daemon_config(tmp_path))
    assert manage("keys", "create", config=config).returncode == 0
    secrets = tmp_path / "data" / "keys" / "secrets.key"
    secrets.chmod(0o644)
    daemon = spawn(daemons, tmp_path / "run", config).start(wait=False)
    assert daemon.wait() == 2
    assert "is accessible by group or others (mode 0644)" in daemon.stderr
    assert not (tmp_path / "data" / "tesserad.db").exists()


def test_a_newer_schema_stops_the_start(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    config = write_config(tmp_path, daemon_config(tmp_path))
    assert manage("db", "upgrade", config=config).returncode == 0
    with sqlite3.connect(tmp_path / "data" / "tesserad.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    daemon = spawn(daemons, tmp_path / "run", config).start(wait=False)
    assert daemon.wait() == 2
    assert "9999_from_the_future" in daemon.stderr


def test_sigint_stops_cleanly_too(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    daemon = spawn(daemons, tmp_path / "run", write_config(tmp_path, daemon_config(tmp_path))).start()
    daemon.signal(signal.SIGINT)
    assert daemon.wait() == 0


def test_a_second_sigterm_while_stopping_changes_nothing(tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    """systemd, and make for ``make run``, signal the whole process group, so a second SIGTERM
    may come while the first still drains in-flight work: it must not be an error."""
    hung = HungServer()
    try:
        data = daemon_config(tmp_path, log={"format": "json"}, server={"shutdown_grace": 30})
        config = write_config(tmp_path, data)
        provision_hotp_people(config, tmp_path / "passwd")
        add_realm(config, "directory", "hung", "ldapresolver", {
            "LDAPURI": hung.uri, "LDAPBASE": "dc=example,dc=com", "AUTHTYPE": "Anonymous",
            "LOGINNAMEATTRIBUTE": "uid", "USERINFO": "{}", "TIMEOUT": "3"})
        daemon = spawn(daemons, tmp_path / "run", config).start()
        with ThreadPoolExecutor(1) as pool:
            login = pool.submit(get_json, web_url(data) + "/validate/check?user=dave@directory&pass=1")
            hung.wait_for_connections(1)  # a login is in flight: stopping waits for it
            daemon.signal(signal.SIGTERM)
            daemon.expect("STOPPING=1")
            daemon.signal(signal.SIGTERM)
            daemon.signal(signal.SIGINT)
            assert daemon.wait() == 0
            login.exception()  # the login ended with the daemon, whatever its answer
        events = [json.loads(line) for line in daemon.stderr.splitlines() if line.startswith("{")]
        assert [e for e in events if e["level"] in ("error", "critical")] == [], daemon.stderr
        assert "Traceback" not in daemon.stderr and "ReactorNotRunning" not in daemon.stderr
        assert [e["message"] for e in events].count("stopped") == 1
    finally:
        hung.close()


def test_help_explains_itself() -> None:
    result = subprocess.run([str(BIN / "tesserad"), "--help"], capture_output=True, text=True,
                            env=clean_env(), timeout=30)
    assert result.returncode == 0
    assert "--config" in result.stdout and "SIGHUP" in result.stdout


def test_daemon_runs_on_each_database(tmp_path: Path, db_url: str, daemons: list[DaemonProcess]) -> None:
    data = daemon_config(tmp_path, database={"url": db_url})
    config = write_config(tmp_path, data)
    daemon = spawn(daemons, tmp_path / "run", config).start()
    status, body = get_json(web_url(data) + "/healthz")
    assert status == 200 and healthy(body)
    password = initial_password(daemon.stdout)
    assert daemon.stop() == 0
    assert manage("admin", "verify", "admin", config=config, stdin=password + "\n").returncode == 0
    assert "current" in manage("db", "status", config=config).stdout
