"""A NAS for the tests: requests built as a RADIUS client builds them (pyrad's client
side), and replies checked as a client checks them (authenticator, Message-Authenticator,
Proxy-State)."""

from __future__ import annotations

import select
import socket

from pyrad import packet as rp

from tesserad.radius import wire

SECRET = b"testing123"
CALLING = "02-00-00-00-00-01"


def access_request(user: str | None = "alice", password: str | None = None, *, secret: bytes = SECRET,
                   message_authenticator: bool = True, state: bytes | None = None,
                   proxy_states: tuple[bytes, ...] = (), nas: str = "nas1") -> rp.AuthPacket:
    req = rp.AuthPacket(secret=secret, dict=wire.dictionary(), message_authenticator=message_authenticator)
    if user is not None:
        req["User-Name"] = user
    if password is not None:
        req["User-Password"] = req.PwCrypt(password)
    req["NAS-Identifier"] = nas
    req["Calling-Station-Id"] = CALLING
    if state is not None:
        req["State"] = state
    for value in proxy_states:
        req.AddAttribute("Proxy-State", value)
    return req


def status_server(secret: bytes = SECRET) -> rp.AuthPacket:
    return rp.AuthPacket(code=rp.StatusServer, secret=secret, dict=wire.dictionary(), message_authenticator=True)


def accounting_request(status: str = "Start", *, secret: bytes = SECRET, user: str = "alice",
                       session: str = "session-1") -> rp.AcctPacket:
    req = rp.AcctPacket(secret=secret, dict=wire.dictionary())
    req["User-Name"] = user
    req["Acct-Status-Type"] = status
    req["Acct-Session-Id"] = session
    req["NAS-Identifier"] = "nas1"
    req["Calling-Station-Id"] = CALLING
    return req


def verified_reply(req: rp.Packet, raw: bytes) -> rp.Packet:
    """The reply decoded, after the checks a BlastRADIUS-aware client makes."""
    reply = req.CreateReply(packet=raw)
    assert req.VerifyReply(reply, raw, enforce_ma=req.code in (rp.AccessRequest, rp.StatusServer)), raw.hex()
    return reply


def attribute_types(raw: bytes) -> list[int]:
    """The attribute numbers of a raw packet, in wire order."""
    types, position = [], 20
    while position < len(raw):
        types.append(raw[position])
        position += raw[position + 1]
    return types


class UdpNas:
    """A NAS on a real socket with its own source address (any 127.0.0.0/8 address works
    on Linux loopback), talking to a real tesserad."""

    def __init__(self, server: tuple[str, int], source: str = "127.0.0.1"):
        self.server = server
        family = socket.AF_INET6 if ":" in source else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))

    def send(self, raw: bytes) -> None:
        self.sock.sendto(raw, self.server)

    def receive(self, timeout: float = 20) -> bytes:
        readable, _, _ = select.select([self.sock], [], [], timeout)
        assert readable, f"no reply from {self.server} within {timeout}s"
        return self.sock.recv(8192)

    def ask(self, req: rp.Packet) -> rp.Packet:
        self.send(req.RequestPacket())
        return verified_reply(req, self.receive())

    def nothing_pending(self) -> bool:
        readable, _, _ = select.select([self.sock], [], [], 0)
        return not readable

    def close(self) -> None:
        self.sock.close()
