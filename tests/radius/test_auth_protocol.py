"""The authentication port in memory, over the real engine (SQLite and PostgreSQL): the
RFC and BlastRADIUS edge cases, duplicate detection, the audit trail."""

from __future__ import annotations

from pyrad import packet as rp
from sqlalchemy import select

from tesserad.core.store.models import AuditEntry
from tesserad.radius import wire
from tesserad.radius.clients import ClientTable

from tests.helpers import free_port
from tests.radius.conftest import CLIENTS, NAS, Edge, HeldRunner, build_edge, client
from tests.radius.nas import CALLING, access_request, attribute_types, status_server, verified_reply
from tests.wired import RFC4226, RFC_SEED_HEX, Core


def enroll_hotp(core: Core, user: str = "alice") -> str:
    return core.enroll(user, type="hotp", otpkey=RFC_SEED_HEX, pin="1234")


def ask(edge: Edge, req: rp.AuthPacket, source: tuple[str, int] = NAS) -> rp.Packet:
    """Send a request and return its one, verified reply."""
    replies = edge.send(req.RequestPacket(), source)
    assert len(replies) == 1, replies
    return verified_reply(req, replies[0])


def audit_rows(core: Core) -> list[AuditEntry]:
    with core.database.session() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        session.expunge_all()
        return rows


def test_pin_and_hotp_accept_then_replay_reject_with_audit(edge: Edge) -> None:
    serial = enroll_hotp(edge.core)
    accepted = ask(edge, access_request(password="1234" + RFC4226[0]))
    assert accepted.code == rp.AccessAccept
    replayed = ask(edge, access_request(password="1234" + RFC4226[0]))
    assert replayed.code == rp.AccessReject
    assert "Reply-Message" not in replayed  # the reason stays in the audit trail
    first, second = audit_rows(edge.core)
    assert (first.action, first.success, first.authentication, first.serial) == (
        "RADIUS Access-Request", True, "ACCEPT", serial)
    assert first.client == NAS[0] and first.user == "alice"
    assert first.action_detail == f"nas1 radius_client=vpn calling_station_id={CALLING}"
    assert second.success is False and second.info.endswith("previous otp used again")


def test_every_reply_has_the_message_authenticator_first_and_proxy_state_in_order(edge: Edge) -> None:
    enroll_hotp(edge.core)
    proxy_states = (b"proxy-b", b"proxy-a", b"proxy-c")
    for password in ("1234" + RFC4226[0], "wrong"):
        req = access_request(password=password, proxy_states=proxy_states)
        raw = edge.send(req.RequestPacket())[0]
        assert attribute_types(raw)[0] == wire.MESSAGE_AUTHENTICATOR
        reply = verified_reply(req, raw)
        assert wire.raw_values(reply, wire.PROXY_STATE) == list(proxy_states)
    status = status_server()
    raw = edge.send(status.RequestPacket())[0]
    assert verified_reply(status, raw).code == rp.AccessAccept
    assert attribute_types(raw) == [wire.MESSAGE_AUTHENTICATOR]


def test_challenge_then_answer_with_state_bound_to_client_and_user(edge: Edge) -> None:
    core = edge.core
    enroll_hotp(core)
    enroll_hotp(core, "bob")
    core.settings(challenge_response=frozenset({"hotp"}))
    challenge = ask(edge, access_request(password="1234"))
    assert challenge.code == rp.AccessChallenge
    [state] = wire.raw_values(challenge, wire.STATE)
    assert challenge["Reply-Message"] == ["please enter otp: "]
    assert challenge["Session-Timeout"] == [120]  # DefaultChallengeValidityTime
    transaction_id = state[:20].decode()
    assert transaction_id.isdigit() and len(state) == 36  # 20 digits and a 128-bit tag
    # The State is refused for another user and from another client, and changes nothing.
    for source, user, secret in ((NAS, "bob", b"testing123"), (("10.1.2.3", 1812), "alice", b"other-secret")):
        refused = ask(edge, access_request(user, RFC4226[0], state=state, secret=secret), source)
        assert refused.code == rp.AccessReject
    rows = audit_rows(core)
    assert [r.info for r in rows[-2:]] == ["a State that was not issued to this client and user"] * 2
    assert rows[-1].action_detail == f"nas1 radius_client=lab calling_station_id={CALLING}"
    tampered = state[:-1] + bytes([state[-1] ^ 1])
    assert ask(edge, access_request(password=RFC4226[0], state=tampered)).code == rp.AccessReject
    answered = ask(edge, access_request(password=RFC4226[0], state=state))
    assert answered.code == rp.AccessAccept
    assert ask(edge, access_request(password=RFC4226[1], state=state)).code == rp.AccessReject


def test_a_long_challenge_text_is_sent_whole_in_several_reply_messages(edge: Edge) -> None:
    enroll_hotp(edge.core)
    text = "Choose: " + "é" * 200  # 408 octets of UTF-8
    edge.core.settings(challenge_response=frozenset({"hotp"}), challenge_text=text)
    edge.core.system(DefaultChallengeValidityTime=30)
    challenge = ask(edge, access_request(password="1234"))
    messages = challenge["Reply-Message"]
    assert len(messages) == 2 and "".join(messages) == text
    assert challenge["Session-Timeout"] == [30]


def test_message_authenticator_and_proxy_state_rules(edge: Edge) -> None:
    serial = enroll_hotp(edge.core)
    strict, legacy, legacy_proxy = NAS, ("127.0.0.2", 1645), ("127.0.0.3", 1645)
    plain = access_request(password="1234" + RFC4226[0], message_authenticator=False)
    assert edge.send(plain.RequestPacket(), strict) == []
    assert ask(edge, plain, legacy).code == rp.AccessAccept
    proxied = access_request(password="1234" + RFC4226[1], message_authenticator=False, proxy_states=(b"p",))
    assert edge.send(proxied.RequestPacket(), legacy) == []
    assert ask(edge, proxied, legacy_proxy).code == rp.AccessAccept
    # A wrong secret shows as a wrong Message-Authenticator: dropped, whatever the client requires.
    wrong = access_request(password="1234" + RFC4226[2], secret=b"not-the-secret")
    assert edge.send(wrong.RequestPacket(), legacy) == []
    # Two Message-Authenticators, or one of the wrong size.
    raw = access_request(password="1234" + RFC4226[2]).RequestPacket()
    doubled = raw + raw[20:38]
    assert edge.send(doubled[:2] + len(doubled).to_bytes(2, "big") + doubled[4:], strict) == []
    short = raw[:20] + bytes([80, 10]) + raw[22:30] + raw[38:]
    assert edge.send(short[:2] + len(short).to_bytes(2, "big") + short[4:], strict) == []
    status = rp.AuthPacket(code=rp.StatusServer, secret=b"testing123", dict=wire.dictionary())
    assert edge.send(status.RequestPacket(), strict) == []
    lines = edge.log_lines()
    assert any("client vpn (127.0.0.1): no Message-Authenticator, which this client requires" in line
               for line in lines)
    assert any("client legacy (127.0.0.2): Proxy-State without Message-Authenticator" in line for line in lines)
    # Logged once a minute per address: the later drops from 127.0.0.1 and .2 were silent.
    assert sum("(127.0.0.1)" in line for line in lines) == 1
    assert sum("(127.0.0.2)" in line for line in lines) == 1
    assert edge.core.token(serial).count == 2  # only the two accepted


def test_unknown_sources_are_dropped_and_logged_once_a_minute_per_address(edge: Edge) -> None:
    packet = access_request(password="x").RequestPacket()
    for _ in range(3):
        assert edge.send(packet, ("192.0.2.7", 1812)) == []
    assert edge.send(packet, ("192.0.2.8", 1812)) == []
    edge.core.clock.advance(60)
    assert edge.send(packet, ("192.0.2.7", 1812)) == []
    lines = [line for line in edge.log_lines() if "not a configured client" in line]
    assert [line.split()[4] for line in lines] == ["192.0.2.7:", "192.0.2.8:", "192.0.2.7:"]


def test_the_longest_prefix_wins_and_ipv6_and_mapped_addresses_match() -> None:
    table = ClientTable([client("net", "10.0.0.0/8"), client("host", "10.1.2.3"), client("mid", "10.1.0.0/16"),
                         client("v6net", "2001:db8::/32"), client("v6host", "2001:db8::5")])
    assert [table.match(a).name for a in ("10.1.2.3", "10.1.2.4", "10.2.0.1", "2001:db8::5", "2001:db8::6")] == [
        "host", "mid", "net", "v6host", "v6net"]
    assert CLIENTS.match("::ffff:127.0.0.2").name == "legacy"
    assert table.match("127.0.0.1") is None and table.match("not an address") is None


def test_retransmissions_are_answered_once_with_the_same_bytes(core: Core) -> None:
    runner = HeldRunner()
    edge = build_edge(core, runner)
    serial = enroll_hotp(core)
    packet = access_request(password="1234" + RFC4226[0]).RequestPacket()
    assert edge.send(packet) == []
    assert edge.send(packet) == []  # in progress: dropped, not queued a second time
    assert len(runner.held) == 1
    runner.release()
    [first] = edge.auth.transport.written
    assert first[0][0] == rp.AccessAccept
    core.clock.advance(4.9)
    assert edge.send(packet) == [first[0]]  # the cached reply, byte for byte
    assert runner.held == []
    token = core.token(serial)
    assert (token.count, token.failcount) == (1, 0)
    # A new port is a new request; after the window the same packet is too.
    assert edge.send(packet, ("127.0.0.1", 40001)) == [] and len(runner.held) == 1
    runner.release()
    core.clock.advance(5)
    edge.send(packet)
    runner.release()
    assert core.token(serial).failcount == 2  # both were replays of a used OTP


def test_engine_errors_reject_with_a_log_line_and_no_secret(edge: Edge) -> None:
    enroll_hotp(edge.core)
    assert ask(edge, access_request("mallory", "1234" + RFC4226[0])).code == rp.AccessReject
    assert ask(edge, access_request("alice", "1" * 128)).code == rp.AccessReject
    assert ask(edge, access_request("alice@nowhere", "1234" + RFC4226[0])).code == rp.AccessReject
    assert ask(edge, access_request("x" * 253, "secret-pass")).code == rp.AccessReject
    lines = edge.log_lines()
    assert any("'mallory' from client vpn rejected: The user can not be found" in line for line in lines)
    text = "\n".join(lines)
    assert RFC4226[0] not in text and "secret-pass" not in text
    assert [r.success for r in audit_rows(edge.core)] == [False] * 4


def test_requests_the_edge_refuses_are_rejected_and_audited(edge: Edge) -> None:
    serial = enroll_hotp(edge.core)
    no_user = access_request(None, "1234" + RFC4226[0])
    assert ask(edge, no_user).code == rp.AccessReject
    # CHAP, MS-CHAPv2 and EAP send a hash of the password: refused, with the reason audited.
    hashed = {"CHAP": wire.CHAP_PASSWORD, "MS-CHAPv2": (311, 25), "EAP": wire.EAP_MESSAGE}
    for key in hashed.values():
        request = access_request()
        request[key] = [b"\x01" + b"h" * 49]
        assert ask(edge, request).code == rp.AccessReject
    odd = access_request()
    odd[wire.USER_PASSWORD] = [b"x" * 17]
    assert ask(edge, odd).code == rp.AccessReject
    bad_name = access_request()
    bad_name[wire.USER_NAME] = [b"\xff\xfe"]
    assert ask(edge, bad_name).code == rp.AccessReject
    infos = [row.info for row in audit_rows(edge.core)]
    assert infos == ["no User-Name", *(f"{method} is not supported: an OTP cannot be checked against its hash; "
                                       "configure the NAS for PAP" for method in hashed),
                     "a User-Password of 17 octets", "User-Name: attribute 1 is not UTF-8 text"]
    assert edge.core.token(serial).count == 0


def test_an_unexpected_failure_gets_no_reply_and_the_retry_is_processed(core: Core) -> None:
    runner = HeldRunner()
    edge = build_edge(core, runner)
    enroll_hotp(core)
    packet = access_request(password="1234" + RFC4226[0]).RequestPacket()
    edge.send(packet)
    d, _, _ = runner.held.pop()
    d.errback(RuntimeError("database unreachable"))
    assert edge.auth.transport.written == []
    assert any("failed and is not answered" in line for line in edge.log_lines())
    edge.send(packet)
    runner.release()
    [(reply, _)] = edge.auth.transport.written
    assert reply[0] == rp.AccessAccept


def test_a_user_store_that_does_not_answer_gets_no_reply_and_one_warning_a_minute(edge: Edge) -> None:
    with edge.core.database.session() as session:  # an LDAP server that refuses connections
        edge.core.directory.save_resolver(session, "down", "ldapresolver", {
            "LDAPURI": f"ldap://127.0.0.1:{free_port()}", "LDAPBASE": "dc=example,dc=com",
            "BINDDN": "cn=reader,dc=example,dc=com", "BINDPW": "reader-secret", "LOGINNAMEATTRIBUTE": "uid",
            "USERINFO": "{}", "TIMEOUT": "1"})
        edge.core.directory.save_realm(session, "directory", [("down", 1)])
        session.commit()
    packet = access_request("dave@directory", "1234").RequestPacket()
    assert edge.send(packet) == []  # no Access-Reject: the NAS fails over to its next server
    assert edge.send(packet) == []  # the retransmission is decided anew (the breaker skips the server)
    assert edge.send(access_request("erin@directory", "1234").RequestPacket()) == []
    lines = [line for line in edge.log_lines() if "not answered" in line]
    assert len(lines) == 1 and "so that it fails over" in lines[0] and "no LDAP server answered" in lines[0]
    assert not any(event.get("log_failure") for event in edge.events)  # a fault, not a bug: no traceback
    assert [(row.action, row.success) for row in audit_rows(edge.core)] == [("RADIUS Access-Request", False)] * 3
    enroll_hotp(edge.core)  # the other realms are answered as ever
    assert ask(edge, access_request(password="1234" + RFC4226[0])).code == rp.AccessAccept


def test_a_reloaded_client_table_applies_to_the_next_packet(core: Core) -> None:
    tables = [ClientTable()]
    edge = build_edge(core, clients=lambda: tables[0])
    status = status_server()
    assert edge.send(status.RequestPacket()) == []
    tables[0] = CLIENTS
    assert verified_reply(status, edge.send(status.RequestPacket())[0]).code == rp.AccessAccept
