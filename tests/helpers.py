"""Shared test helpers: free ports, real-part requirements, config files, the CLIs."""

from __future__ import annotations

import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from twisted.internet.defer import Deferred, fail, succeed

IN_CI = os.environ.get("CI", "").lower() == "true"
BIN = Path(sys.executable).parent


def require(condition: bool, reason: str) -> None:
    """Skip a test whose real part is unavailable here; in CI that is a failure."""
    if not condition:
        if IN_CI:
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def serving_in_thread(server: socketserver.BaseServer) -> Iterator[None]:
    """Serve ``server`` (a test's HTTP server on loopback) in a thread until the block ends."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def write_config(directory: Path, data: dict[str, Any], name: str = "tesserad.toml") -> Path:
    path = directory / name
    path.write_text(tomli_w.dumps(data))
    return path


def daemon_config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """A config for a test daemon: its own data dir, a free web port, no RADIUS ports
    (tests that use RADIUS give free ones), cheap argon2."""
    data: dict[str, Any] = {
        "server": {"data_dir": str(tmp_path / "data")},
        "web": {"listen": [f"tcp:{free_port()}:interface=127.0.0.1"]},
        "radius": {"auth_listen": [], "acct_listen": []},
        "security": {"argon2_time_cost": 1, "argon2_memory_cost": 1024, "argon2_parallelism": 1},
    }
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    return data


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any tesserad or XDG settings of the developer's shell."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TESSERAD_CONFIG", "XDG_DATA_HOME", "NOTIFY_SOCKET")}
    env.update(extra)
    return env


def manage(*args: str, config: Path | None = None, stdin: str = "",
           env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed tesserad-manage console script."""
    command = [str(BIN / "tesserad-manage")]
    if config is not None:
        command += ["--config", str(config)]
    return subprocess.run(command + list(args), input=stdin, capture_output=True, text=True,
                          env=env or clean_env(), cwd=cwd, timeout=60)


def run_inline(fn: Any, *args: Any) -> Deferred[Any]:
    """The core executor, synchronously: results are ready when the request returns."""
    try:
        return succeed(fn(*args))
    except Exception as exc:  # the executor delivers it as a failed Deferred
        return fail(exc)


def until(condition: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    """Poll a condition with a deadline (processes, servers and breakers keep their own time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
