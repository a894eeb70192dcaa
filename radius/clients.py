"""The NAS client table: which source addresses may talk RADIUS to tesserad, and with
which shared secret and rules.

Built from ``[[radius.clients]]`` at start and again on SIGHUP, with each client's reply
attribute rules (``[[radius.reply]]`` then its own). A source address is matched by the
longest prefix that contains it (a host entry beats its network), so the answer never
depends on the order of the config file.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pyrad.dictionary import Dictionary, ParseError

from tesserad.core.errors import ConfigError
from tesserad.radius import wire
from tesserad.radius.config import RadiusSection
from tesserad.radius.replyrules import ACCEPT, CHALLENGE, ReplyRule, compile_rules

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class NasClient:
    name: str
    network: Network
    secret: bytes = field(repr=False)
    realm: str | None = None
    require_message_authenticator: bool = True
    limit_proxy_state: bool = True
    reply: tuple[ReplyRule, ...] = ()

    def reply_rules(self, challenge: bool) -> tuple[ReplyRule, ...]:
        """The rules of an Access-Challenge, or else of an Access-Accept."""
        on = CHALLENGE if challenge else ACCEPT
        return tuple(rule for rule in self.reply if on in rule.on)


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


def load_clients(radius: RadiusSection, source: str) -> ClientTable:
    """The table for ``radius.clients``, reading secret files and dictionaries now; a
    secret file that is missing, empty or readable by others, a dictionary that does not
    parse or a bad reply rule is refused with its config key."""
    dictionary = load_dictionary(radius.dictionaries, source)
    shared = compile_rules(radius.reply, dictionary, "radius.reply", source)
    clients = []
    for index, config in enumerate(radius.clients):
        key = f"radius.clients[{index}]"
        if config.secret:
            secret = config.secret.encode()
        else:
            try:
                secret = read_secret_file(Path(config.secret_file))
            except ValueError as exc:
                raise ConfigError(str(exc), path=source, key=f"{key}.secret_file") from None
        own = compile_rules(config.reply, dictionary, f"{key}.reply", source)
        clients.append(NasClient(config.name, ipaddress.ip_network(config.address), secret,
                                 config.realm or None, config.require_message_authenticator,
                                 config.limit_proxy_state, (shared if config.global_reply else ()) + own))
    return ClientTable(clients)


def load_dictionary(files: list[str], source: str) -> Dictionary:
    """The shipped dictionaries, and the operator's ``radius.dictionaries`` over them."""
    if not files:
        return wire.dictionary()
    dictionary = wire.shipped_dictionary()
    for index, file in enumerate(files):
        try:
            dictionary.ReadDictionary(file)
        except (OSError, ParseError, ValueError, KeyError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(f"cannot read the dictionary {file}: {reason}", path=source,
                              key=f"radius.dictionaries[{index}]") from None
    return dictionary


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
