"""Access-Request in, AuthRequest out; and the engine's verdict back as a reply packet.

Only translation lives here: what a NAS sent becomes the engine's request (User-Name,
the PAP User-Password, State as the transaction id once its tag verifies, the NAS's
identity for the audit), and ACCEPT / REJECT / CHALLENGE become Access-Accept,
Access-Reject and Access-Challenge with the client's reply attributes. A reject says
nothing beyond its code: the reason goes to the audit trail, not to whoever sent the
request. CHAP, MS-CHAP, MS-CHAPv2 and EAP are refused that way: they send a hash of the
password, and an OTP (or PIN+OTP) cannot be checked against a hash without knowing it
in advance (the privacyIDEA plugin does not support them either).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyrad import packet as rp

from tesserad.core.auth.request import AuthRequest
from tesserad.radius import wire
from tesserad.radius.clients import NasClient
from tesserad.radius.replyrules import Key
from tesserad.radius.state import StateCodec

ACTION = "RADIUS Access-Request"
# Octets of challenge text sent as Reply-Message attributes (the reply stays far below
# the 4096-octet packet limit).
MAX_REPLY_MESSAGE = 1024
PASSWORD_SIZES = range(16, 129, 16)  # RFC 2865 section 5.2


class Refused(Exception):
    """An Access-Request answered with Access-Reject before the engine sees it."""


@dataclass(frozen=True)
class Origin:
    """Where a request comes from, as the audit trail records it."""

    client: NasClient
    host: str
    nas: str
    calling_station: str

    @classmethod
    def of(cls, pkt: rp.Packet, client: NasClient, host: str) -> Origin:
        try:
            nas = wire.nas_identity(pkt)
            calling = wire.text(pkt, wire.CALLING_STATION_ID, strict=False) or ""
        except wire.MalformedAttribute:
            nas, calling = "", ""
        return cls(client, host, nas, calling)

    def attributes(self) -> dict[str, str]:
        attributes = {"radius_client": self.client.name}
        if self.calling_station:
            attributes["calling_station_id"] = self.calling_station
        return attributes


def user_name(pkt: rp.Packet) -> str:
    """The User-Name (required: the engine finds tokens by user)."""
    try:
        name = wire.text(pkt, wire.USER_NAME)
    except wire.MalformedAttribute as exc:
        raise Refused(f"User-Name: {exc}") from None
    if not name:
        raise Refused("no User-Name")
    return name


def readable_user(pkt: rp.Packet) -> str:
    """The User-Name as far as it can be read, for the audit row of a refused request."""
    try:
        return wire.text(pkt, wire.USER_NAME, strict=False) or ""
    except wire.MalformedAttribute:
        return ""


def auth_request(pkt: rp.AuthPacket, origin: Origin, user: str, states: StateCodec) -> AuthRequest:
    """The engine's request for an Access-Request whose authenticity was checked."""
    try:
        hidden = wire.raw_value(pkt, wire.USER_PASSWORD)
        state = wire.raw_value(pkt, wire.STATE)
    except wire.MalformedAttribute as exc:
        raise Refused(str(exc)) from None
    method = wire.password_method(pkt) if hidden is None else None
    if method is not None:
        raise Refused(f"{method} is not supported: an OTP cannot be checked against its hash; "
                      "configure the NAS for PAP")
    if hidden is not None and len(hidden) not in PASSWORD_SIZES:
        raise Refused(f"a User-Password of {len(hidden)} octets")
    transaction_id = None
    if state is not None:
        transaction_id = states.verify(state, origin.client.name, user)
        if transaction_id is None:
            raise Refused("a State that was not issued to this client and user")
    return AuthRequest(
        password=pkt.PwDecrypt(hidden) if hidden is not None else "", user=user,
        realm=origin.client.realm, transaction_id=transaction_id, client=origin.host, protocol="radius",
        nas=origin.nas, attributes=origin.attributes())


def reply(pkt: rp.AuthPacket, code: int) -> rp.AuthPacket:
    """A reply of ``code`` with a Message-Authenticator first and the request's
    Proxy-State copied in order (pyrad's CreateReply does both)."""
    answer = pkt.CreateReply()
    answer.code = code
    return answer


def challenge(pkt: rp.AuthPacket, state: bytes, message: str, timeout: int) -> rp.AuthPacket:
    """Access-Challenge: State, the challenge texts (every token's, when several
    challenge), and how long the NAS should wait for the answer."""
    answer = reply(pkt, wire.ACCESS_CHALLENGE)
    answer["State"] = state
    for chunk in wire.text_chunks(message, MAX_REPLY_MESSAGE):
        answer.AddAttribute("Reply-Message", chunk)
    answer["Session-Timeout"] = timeout
    return answer


def add_attributes(answer: rp.AuthPacket, attributes: Sequence[tuple[Key, bytes]]) -> int:
    """Add reply-rule attributes, raw, in order, while the packet stays within 4096 octets;
    returns how many did not fit."""
    room = wire.MAX_LENGTH - wire.encoded_length(answer)
    for index, (key, value) in enumerate(attributes):
        size = wire.attribute_length(key, value)
        if size > room:
            return len(attributes) - index
        answer.setdefault(key, []).append(value)
        room -= size
    return 0
