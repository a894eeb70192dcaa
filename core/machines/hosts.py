"""The ``hosts`` machine resolver: machines from a file in /etc/hosts format.

Each line ``<ip> <hostname> [<alias> ...]`` is one machine whose id is the IP address, as
privacyIDEA's hosts resolver has it. Comments (``#``) and blank lines are skipped; a line
whose first field is no IP address is ignored.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tesserad.core.tokens.base import ParameterError

MAX_FILE_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True)
class Machine:
    id: str
    hostnames: tuple[str, ...]
    ip: str
    resolver_name: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "hostname": list(self.hostnames), "ip": self.ip,
                "resolver_name": self.resolver_name}


class HostsResolver:
    rtype = "hosts"
    keys = ("filename",)

    def __init__(self, name: str, config: dict[str, str]):
        self.name = name
        self.filename = config.get("filename", "")

    @classmethod
    def check_config(cls, config: dict[str, str]) -> None:
        """Refuse a definition that cannot work (no file name, or a relative one)."""
        filename = config.get("filename", "")
        if not filename:
            raise ParameterError("missing parameter: filename")
        if not Path(filename).is_absolute():
            raise ParameterError("filename must be an absolute path")

    def machines(self) -> list[Machine]:
        """The machines of the file; an unreadable file is an error, not an empty list."""
        path = Path(self.filename)
        try:
            if path.stat().st_size > MAX_FILE_SIZE:
                raise ParameterError(f"machine resolver {self.name}: {self.filename} is too large")
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ParameterError(f"machine resolver {self.name}: cannot read {self.filename}: "
                                 f"{exc.strerror}") from None
        found = []
        for line in text.splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) < 2:
                continue
            try:
                ip = str(ipaddress.ip_address(fields[0]))
            except ValueError:
                continue
            found.append(Machine(ip, tuple(fields[1:]), ip, self.name))
        return found
