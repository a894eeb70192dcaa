"""Throwaway PostgreSQL servers for tests: ``initdb`` and ``pg_ctl`` on a free loopback port.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from tests.helpers import free_port, require


class PostgresUnavailable(Exception):
    """The PostgreSQL server binaries (or, as root, the postgres user) are not installed."""


def _bindir() -> Path:
    found = [path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")
             if path.parent.parent.name.isdigit()]
    if not found:
        raise PostgresUnavailable("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return max(found, key=lambda path: int(path.parent.name))


def _run(command: list[str], cwd: Path, log: Path | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        server_log = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise RuntimeError(f"{shlex.join(command)} failed ({result.returncode}):\n"
                           f"{result.stdout}{result.stderr}{server_log}")


class PostgresServer:
    """A server whose data and socket live in ``tmpdir``, on a free loopback port; ``stop``
    and ``start`` again (an outage, and the database coming back) keep the data.

    ``url`` is the superuser URL (``postgresql+psycopg://postgres@127.0.0.1:<port>/postgres``,
    trust authentication on loopback). As root, ``tmpdir`` is handed to the postgres user,
    so it must be reachable by that user: make it with ``tempfile.mkdtemp()``, not inside
    pytest's private (0700) ``tmp_path``.
    """

    def __init__(self, tmpdir: Path):
        bindir = _bindir()
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root, but there is no postgres user") from None
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("running as root, but runuser is missing")
            shutil.chown(tmpdir, "postgres", "postgres")
            self._prefix = ["runuser", "-u", "postgres", "--"]
        self._tmpdir, self._data, self._log = tmpdir, tmpdir / "data", tmpdir / "server.log"
        self._pg_ctl = str(bindir / "pg_ctl")
        _run([*self._prefix, str(bindir / "initdb"), "-D", str(self._data), "-A", "trust", "-U", "postgres",
              "-E", "UTF8", "--no-locale", "--no-sync"], tmpdir)
        port = free_port()
        self._options = f"-p {port} -k {shlex.quote(str(tmpdir))} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        self.running = False
        self.start()

    def start(self) -> None:
        # -w: pg_ctl returns once the server accepts connections.
        _run([*self._prefix, self._pg_ctl, "-D", str(self._data), "-l", str(self._log), "-o", self._options,
              "-w", "start"], self._tmpdir, self._log)
        self.running = True

    def stop(self) -> None:
        if self.running:
            _run([*self._prefix, self._pg_ctl, "-D", str(self._data), "-m", "fast", "-w", "stop"], self._tmpdir,
                 self._log)
            self.running = False


@contextlib.contextmanager
def throwaway_postgres(prefix: str) -> Iterator[PostgresServer]:
    """A running server in a new temporary directory, stopped and removed afterwards; the
    test is skipped (a failure in CI) where PostgreSQL is not installed."""
    tmpdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        try:
            server = PostgresServer(tmpdir)
        except PostgresUnavailable as exc:
            require(False, f"PostgreSQL is not available: {exc}")
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server for one test; dropped afterwards."""
    name = f"test_{uuid.uuid4().hex}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
