"""First-start and every-start preparation of the data directory, keys and schema.

Checks come before creation, so a start that cannot succeed (unwritable data directory,
newer schema) leaves nothing behind.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from tesserad.core import admins
from tesserad.core.context import Context
from tesserad.core.errors import SchemaError, StartupError
from tesserad.core.security.keystore import KeyStore
from tesserad.core.store import Database

INITIAL_ADMIN = "admin"


def check_writable(path: Path) -> None:
    """Raise StartupError unless ``path`` exists writable, or can be created."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise StartupError(f"data directory {path}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        what = "is not writable" if probe == path else f"cannot be created ({probe} is not writable)"
        raise StartupError(f"data directory {path} {what}")


def ensure_data_dir(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"cannot create data directory {path}: {exc.strerror}") from None


def ensure_keys(key_dir: Path) -> bool:
    """Create the keys when none exist; True if they were created now."""
    store = KeyStore(key_dir)
    if store.existing():
        store.add_missing()  # keys that a newer version introduced
        return False
    store.create()
    return True


def prepare_schema(database: Database, *, auto_upgrade: bool) -> str:
    """Bring the schema to this version's head; returns what was done.

    A newer schema always stops the start (SchemaError from ``schema_state``); an older one
    is upgraded only when allowed, because some operators migrate in a maintenance window.
    """
    state = database.schema_state()
    if state == "current":
        return "current"
    if state == "outdated" and not auto_upgrade:
        raise SchemaError(f"database schema {database.current_revision()} is older than "
                          f"{database.head_revision()}; run `tesserad-manage db upgrade`")
    database.upgrade()
    return "created" if state == "empty" else "upgraded"


def ensure_initial_admin(ctx: Context) -> str | None:
    """With no administrator at all, create ``admin`` and return its new random password."""
    with ctx.database.session() as session:
        if admins.count(session) > 0:
            return None
        password = secrets.token_urlsafe(18)
        admins.add(session, ctx.hasher, INITIAL_ADMIN, password, clock=ctx.clock)
        session.commit()
    return password

