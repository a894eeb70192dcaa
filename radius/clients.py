"""The NAS client table: which source addresses may talk RADIUS to tesserad, and with
which shared secret and rules.

Built from ``[[radius.clients]]`` at start and again on SIGHUP. A source address is
matched by the longest prefix that contains it (a host entry beats its network), so the
answer never depends on the order of the config file.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tesserad.core.config import RadiusClientConfig
from tesserad.core.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class NasClient:
    name: str
    network: Network
    secret: bytes = field(repr=False)
    realm: str | None = None
    require_message_authenticator: bool = True
    limit_proxy_state: bool = True


class ClientTable:
    """Immutable; a reload builds a new table and swaps it in."""

    def __init__(self, clients: Iterable[NasClient] = ()):
        self.clients = tuple(sorted(clients, key=lambda c: c.network.prefixlen, reverse=True))

    def match(self, host: str) -> NasClient | None:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        for client in self.clients:
            if address in client.network:
                return client
        return None

    def __len__(self) -> int:
        return len(self.clients)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientTable) and self.clients == other.clients

    __hash__ = None  # type: ignore[assignment]


def load_clients(configs: list[RadiusClientConfig], source: str) -> ClientTable:
    """The table for ``radius.clients``, reading secret files now; a file that is missing,
    empty or readable by others is refused with its config key."""
    clients = []
    for index, config in enumerate(configs):
        if config.secret:
            secret = config.secret.encode()
        else:
            key = f"radius.clients[{index}].secret_file"
            try:
                secret = read_secret_file(Path(config.secret_file))
            except ValueError as exc:
                raise ConfigError(str(exc), path=source, key=key) from None
        clients.append(NasClient(config.name, ipaddress.ip_network(config.address), secret,
                                 config.realm or None, config.require_message_authenticator,
                                 config.limit_proxy_state))
    return ClientTable(clients)


def read_secret_file(path: Path) -> bytes:
    """The first line of ``path``, without its line ending."""
    try:
        if path.stat().st_mode & 0o004:
            raise ValueError(f"{path} is readable by others (chmod o-r)")
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not lines or not lines[0]:
        raise ValueError(f"{path}: the first line (the secret) is empty")
    return lines[0].encode()
