"""Whether a resolver's connection reaches tesserad's own database.

A user store that reads the daemon's database (the admin table, token seeds, the audit)
would let anybody who may configure a resolver or list its users read it, so resolvers
pointing at it are refused (``Directory``). Only the database matters, not the way to
it: a server is reachable by many host names and ports (loopback, its address, a socket
directory, a pooler), so for servers the same backend and database name count as the same
database; for SQLite the same file (by inode: hard and symbolic links, relative paths).
"""

from __future__ import annotations

import os

from sqlalchemy.engine import URL

# Backends that are one server family (MariaDB speaks MySQL's protocol).
_FAMILY = {"mariadb": "mysql"}
_MEMORY = ("", ":memory:")


def same_database(a: URL, b: URL) -> bool:
    family_a, family_b = _family(a), _family(b)
    if family_a != family_b:
        return False
    if family_a == "sqlite":
        return _same_file(_sqlite_path(a), _sqlite_path(b))
    return (a.database or "").casefold() == (b.database or "").casefold()


def _family(url: URL) -> str:
    backend = url.get_backend_name()
    return _FAMILY.get(backend, backend)


def _sqlite_path(url: URL) -> str:
    """The file of a SQLite URL ("" in memory); ``file:`` URIs (``?uri=true``) too."""
    path = url.database or ""
    if path.startswith("file:"):
        path = path[len("file:"):].split("?", 1)[0]
        path = path[2:] if path.startswith("//") else path
    return "" if path in _MEMORY or "mode=memory" in str(url.query) else path


def _same_file(a: str, b: str) -> bool:
    if not a or not b:
        return False  # an in-memory database is a database of its own
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet): compare where they would be
        return os.path.realpath(a) == os.path.realpath(b)
