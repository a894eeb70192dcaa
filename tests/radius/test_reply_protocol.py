"""Reply attributes on the wire, in memory over the real engine and policies (SQLite and
PostgreSQL): fixed values, the serial, user attributes with a regex, realm, vendor
attributes; user data only when an authorization policy lets it out; challenges; the
4096-octet limit."""

from __future__ import annotations

from typing import Any

import pytest
from pyrad import packet as rp

from tesserad.core.policy.auth import PolicyAuthPolicies
from tesserad.core.store.models import CustomUserAttribute
from tesserad.radius import config as radius_config
from tesserad.radius.clients import ClientTable, load_clients

from tests.radius.conftest import Edge, build_edge
from tests.radius.nas import SECRET, access_request, verified_reply
from tests.wired import RFC4226, RFC_SEED_HEX, Core

GLOBAL = [{"attribute": "Class", "value": "tesserad"},
          {"attribute": "privacyIDEA-Serial", "source": "serial", "on": ["accept", "challenge"]},
          {"attribute": "Fortinet-Group-Name", "source": "user.memberOf", "match": "^cn=([^,]+)", "value": "fg-{1}"},
          {"attribute": "Filter-Id", "source": "realm", "value": "realm-{0}"}]


def table(*reply: dict[str, Any], own: tuple[dict[str, Any], ...] = (), **client: Any) -> ClientTable:
    section = radius_config.RadiusSection(
        reply=[radius_config.RadiusReplyConfig(**rule) for rule in reply],
        clients=[radius_config.RadiusClientConfig(name="vpn", address="127.0.0.1", secret=SECRET.decode(),
                                        reply=[radius_config.RadiusReplyConfig(**rule) for rule in own], **client)])
    return load_clients(section, "test")


def edge_with(core: Core, clients: ClientTable) -> Edge:
    """An edge whose engine reads the edge's policy store (the daemon's wiring)."""
    edge = build_edge(core, clients=lambda: clients)
    core.auth.engine.policies = PolicyAuthPolicies(edge.policies, "test-node", directory=core.directory)
    return edge


def ask(edge: Edge, req: rp.AuthPacket) -> rp.Packet:
    [raw] = edge.send(req.RequestPacket())
    return verified_reply(req, raw)


def set_group(core: Core, login: str, value: str) -> None:
    user = core.user(login)
    with core.database.session() as session:
        session.add(CustomUserAttribute(realm_id=core.directory.realm_id(session, "example"), resolver=user.resolver,
                                        user_id=user.uid, key="memberOf", value=value))
        session.commit()


def policy(edge: Edge, name: str, scope: str = "authorization", **fields: Any) -> None:
    with edge.core.database.session() as session:
        edge.policies.set_policy(session, name, scope=scope, **fields)
        session.commit()


def login(edge: Edge, counter: int, user: str = "alice") -> rp.Packet:
    reply = ask(edge, access_request(user, "1234" + RFC4226[counter]))
    assert reply.code == rp.AccessAccept
    return reply


@pytest.mark.policy_action("authorization", "add_user_in_response")
@pytest.mark.policy_action("authorization", "add_resolver_in_response")
def test_user_data_leaves_only_with_the_privacyidea_policies(core: Core) -> None:
    edge = edge_with(core, table(*GLOBAL))
    serial = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    set_group(core, "alice", "cn=vpn-admins,ou=groups,dc=example")
    reply = login(edge, 0)
    assert (reply["Class"], reply["privacyIDEA-Serial"]) == ([b"tesserad"], [serial])
    assert "Fortinet-Group-Name" not in reply and "Filter-Id" not in reply
    # A policy for other NAS addresses does not apply; one for this NAS does.
    policy(edge, "elsewhere", action="add_user_in_response, add_resolver_in_response", client="10.0.0.0/8")
    assert "Fortinet-Group-Name" not in login(edge, 1)
    policy(edge, "users", action="add_user_in_response")
    reply = login(edge, 2)
    assert reply["Fortinet-Group-Name"] == ["fg-vpn-admins"] and "Filter-Id" not in reply
    policy(edge, "resolvers", action="add_resolver_in_response")
    reply = login(edge, 3)
    assert reply["Filter-Id"] == ["realm-example"]
    assert [key for key in dict.keys(reply)][:2] == [80, 25]  # Message-Authenticator first, rules in order


@pytest.mark.policy_action("authentication", "challenge_response")
def test_rejects_carry_nothing_and_challenges_only_their_rules(core: Core) -> None:
    edge = edge_with(core, table(*GLOBAL, own=({"attribute": "Reply-Message", "value": "welcome",
                                                "on": ["accept"]},)))
    first = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    second = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    policy(edge, "users", action="add_user_in_response, add_resolver_in_response")
    policy(edge, "challenges", scope="authentication", action="challenge_response=hotp")
    rejected = ask(edge, access_request("alice", "1234000000"))
    assert rejected.code == rp.AccessReject and set(dict.keys(rejected)) == {80}
    challenge = ask(edge, access_request("alice", "1234"))
    assert challenge.code == rp.AccessChallenge
    assert sorted(challenge["privacyIDEA-Serial"]) == sorted([first, second])
    assert "Class" not in challenge and "Filter-Id" not in challenge
    assert "welcome" not in challenge["Reply-Message"]
    [state] = challenge["State"]
    answer = ask(edge, access_request("alice", RFC4226[0], state=state))
    assert answer.code == rp.AccessAccept and answer["Reply-Message"] == ["welcome"]


def test_a_client_without_the_global_rules_and_the_packet_size_limit(core: Core) -> None:
    long_rules = [{"attribute": "Filter-Id", "value": f"{n:02d}" + "x" * 251} for n in range(20)]
    edge = edge_with(core, table(*GLOBAL, own=tuple(long_rules), global_reply=False))
    core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    req = access_request("alice", "1234" + RFC4226[0])
    [raw] = edge.send(req.RequestPacket())
    reply = verified_reply(req, raw)
    assert len(raw) <= 4096 and "Class" not in reply
    kept = reply["Filter-Id"]
    assert 10 < len(kept) < 20 and [value[:2] for value in kept] == [f"{n:02d}" for n in range(len(kept))]
    assert any(f"{20 - len(kept)} reply attribute(s) left out" in line for line in edge.log_lines())


@pytest.mark.policy_action("authentication", "challenge_text")
def test_the_challenge_text_is_the_reply_message_of_the_challenge(core: Core) -> None:
    edge = edge_with(core, table())
    core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    policy(edge, "challenges", scope="authentication", action="challenge_response=hotp")
    challenge = ask(edge, access_request("alice", "1234"))
    assert challenge.code == rp.AccessChallenge and challenge["Reply-Message"] != ["Enter the code, please"]
    policy(edge, "challenges", scope="authentication",
           action="challenge_response=hotp, challenge_text='Enter the code, please'")
    challenge = ask(edge, access_request("alice", "1234"))
    assert challenge.code == rp.AccessChallenge and challenge["Reply-Message"] == ["Enter the code, please"]
    [state] = challenge["State"]
    assert ask(edge, access_request("alice", RFC4226[0], state=state)).code == rp.AccessAccept
