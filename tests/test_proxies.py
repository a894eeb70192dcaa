"""OverrideAuthorizationClient: which client address policies see behind trusted proxies."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tesserad.core.proxies import effective_client, forwarded_hops
from tesserad.core.store.models import AuditEntry
from tesserad.core.sysconfig import SystemConfigError

from tests.wired import Core

RULES = "10.1.2.0/24 > 192.168.0.0/16, 172.16.0.1, 10.0.0.18 > 10.1.2.0/24 > 192.168.0.0/16"


@pytest.mark.parametrize(("peer", "forwarded", "claimed", "expected"), [
    ("10.1.2.3", "", "192.168.1.1", "192.168.1.1"),  # a trusted proxy names a client in its range
    ("10.1.2.3", "", "8.8.8.8", "10.1.2.3"),  # ... but not one outside it
    ("172.16.0.1", "", "8.8.8.8", "8.8.8.8"),  # a proxy trusted for any client
    ("10.0.0.18", "192.168.5.5, 10.1.2.9", None, "192.168.5.5"),  # two trusted hops
    ("10.0.0.19", "192.168.5.5, 10.1.2.9", None, "10.0.0.19"),  # the first hop is not trusted
    ("10.0.0.18", "192.168.5.5, not-an-address", None, "10.0.0.18"),
    ("8.8.4.4", "", "192.168.1.1", "8.8.4.4"),  # anyone else cannot claim a client
])
def test_the_deepest_trusted_hop_wins(peer: str, forwarded: str, claimed: str | None, expected: str) -> None:
    assert effective_client(peer, forwarded_hops(forwarded), claimed, RULES) == expected


def test_without_rules_the_peer_is_the_client() -> None:
    assert effective_client("10.1.2.3", ("192.168.1.1",), "192.168.1.2", "") == "10.1.2.3"


def test_a_bad_rule_is_refused_when_set(core: Core) -> None:
    with pytest.raises(SystemConfigError, match="OverrideAuthorizationClient: 'nonsense' is not an IP"):
        core.system(OverrideAuthorizationClient="10.0.0.1 > nonsense")
    core.system(OverrideAuthorizationClient=RULES)


def test_the_engine_and_the_audit_see_the_vouched_client(core: Core) -> None:
    core.enroll("alice", type="spass", pin="secret")
    core.system(OverrideAuthorizationClient="10.1.2.0/24 > 192.168.0.0/16")
    core.check("secret", client="10.1.2.3", claimed_client="192.168.7.7")
    core.check("secret", client="10.9.9.9", claimed_client="192.168.7.8")
    with core.database.session() as session:
        clients = session.scalars(select(AuditEntry.client).order_by(AuditEntry.id)).all()
    assert clients[-2:] == ["192.168.7.7", "10.9.9.9"]
