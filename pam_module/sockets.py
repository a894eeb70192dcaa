"""The PAM socket files: a stale one left by a killed daemon is removed before binding,
and with ``pam.allowed_group`` the socket file is given that group after binding."""
from __future__ import annotations

import errno
import grp
import os
import socket
import stat
from pathlib import Path
from typing import Any, Protocol

from twisted.internet.endpoints import UNIXServerEndpoint, serverFromString

from tesserad.core.errors import StartupError
from tesserad.pam_module.config import PamSection


class Bindable(Protocol):
    def bind(self) -> None: ...


def unix_paths(reactor: Any, descriptions: list[str]) -> list[Path]:
    """The file-system paths of the ``unix:`` endpoints among ``descriptions``."""
    paths = []
    for description in descriptions:
        try:
            endpoint = serverFromString(reactor, description)
        except (ValueError, TypeError, KeyError):
            continue  # the listener's bind names the bad endpoint
        if isinstance(endpoint, UNIXServerEndpoint):
            address = endpoint._address
            paths.append(Path(os.fsdecode(address)))
    return paths


def clear_stale(path: Path) -> None:
    """Remove a socket file nobody listens on (the daemon was killed); leave a live one, so
    that binding fails and names it, and never remove anything that is not a socket."""
    try:
        if not stat.S_ISSOCK(path.lstat().st_mode):
            return
    except FileNotFoundError:
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError as exc:
        if exc.errno == errno.ECONNREFUSED:
            path.unlink(missing_ok=True)
    finally:
        probe.close()


def bind(listeners: Bindable, reactor: Any, section: PamSection) -> None:
    """Bind the PAM listeners: stale socket files first, the allowed group after."""
    paths = unix_paths(reactor, section.listen)
    for path in paths:
        clear_stale(path)
    listeners.bind()
    if section.allowed_group:
        gid = grp.getgrnam(section.allowed_group).gr_gid
        for path in paths:
            try:
                os.chown(path, -1, gid)
            except OSError as exc:
                raise StartupError(f"pam.allowed_group: cannot give {path} the group "
                                   f"{section.allowed_group}: {exc.strerror}") from None
