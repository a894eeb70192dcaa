"""Which address a request really comes from, behind trusted proxies.

System setting ``OverrideAuthorizationClient`` (privacyIDEA's syntax): comma-separated
rules, each a chain of networks ``proxy > ... > client``. ``10.1.2.0/24 > 192.168.0.0/16``
lets proxies in 10.1.2.0/24 speak for clients in 192.168.0.0/16; a rule of one network
(``172.16.0.1``) lets that proxy speak for any client; ``10.0.0.18 > 10.1.2.0/24 >
192.168.0.0/16`` trusts two hops. The path runs from the peer through X-Forwarded-For (last
hop first) to the ``client`` parameter; the address reached by the deepest rule that holds
hop by hop is the client policies see. Without rules the peer is the client.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ANYWHERE: tuple[Network, ...] = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


@functools.lru_cache(maxsize=16)
def parse_rules(text: str) -> tuple[tuple[tuple[Network, ...], ...], ...]:
    """The rules of ``text``; ValueError naming the part that is not a network."""
    rules = []
    for rule in filter(None, (part.strip() for part in text.split(","))):
        hops: list[tuple[Network, ...]] = []
        for hop in rule.split(">"):
            try:
                hops.append((ipaddress.ip_network(hop.strip(), strict=False),))
            except ValueError:
                raise ValueError(f"{hop.strip()!r} is not an IP address or network") from None
        if len(hops) == 1:
            hops.append(ANYWHERE)
        rules.append(tuple(hops))
    return tuple(rules)


def forwarded_hops(header: str) -> tuple[str, ...]:
    """The hops of an X-Forwarded-For header, first client first (at most 16)."""
    return tuple(hop.strip() for hop in header.split(",")[:16] if hop.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def effective_client(peer: str, forwarded: Sequence[str], claimed: str | None, rules_text: str) -> str:
    """The client address: ``peer`` unless trusted proxies on the way speak for another."""
    if not rules_text or not (forwarded or claimed):
        return peer
    path = [peer, *reversed(forwarded), *([claimed] if claimed else [])]
    addresses = [_address(hop) for hop in path]
    deepest = 0
    for rule in parse_rules(rules_text):
        depth = 0
        while (depth < len(rule) and depth < len(addresses) and addresses[depth] is not None
               and any(addresses[depth] in network for network in rule[depth])):
            depth += 1
        deepest = max(deepest, depth - 1)
    return path[deepest].strip()
