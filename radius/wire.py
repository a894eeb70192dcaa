"""RADIUS on the wire: packet codes, attribute numbers, the dictionaries, and the checks a
datagram passes before pyrad decodes it.

pyrad decodes leniently (an attribute that runs past the end of the packet is cut short,
not refused), so the structure is checked here first and a malformed packet is dropped
whole (RFC 2865 section 3). Request attributes are read raw by number, so an attribute
with a malformed value cannot break the decoding of the ones tesserad needs.
"""

from __future__ import annotations

import functools
import ipaddress
from importlib import resources

from pyrad import packet as rp
from pyrad.dictionary import Dictionary

MIN_LENGTH = 20
MAX_LENGTH = 4096  # RFC 2865 section 3
MAX_ATTRIBUTE_VALUE = 253

ACCESS_REQUEST = rp.AccessRequest
ACCESS_ACCEPT = rp.AccessAccept
ACCESS_REJECT = rp.AccessReject
ACCOUNTING_REQUEST = rp.AccountingRequest
ACCESS_CHALLENGE = rp.AccessChallenge
STATUS_SERVER = rp.StatusServer

USER_NAME = 1
USER_PASSWORD = 2
CHAP_PASSWORD = 3
NAS_IP_ADDRESS = 4
STATE = 24
CALLING_STATION_ID = 31
NAS_IDENTIFIER = 32
PROXY_STATE = 33
ACCT_STATUS_TYPE = 40
ACCT_SESSION_ID = 44
ACCT_SESSION_TIME = 46
ACCT_TERMINATE_CAUSE = 49
EAP_MESSAGE = 79
MESSAGE_AUTHENTICATOR = 80
NAS_IPV6_ADDRESS = 95
VENDOR_SPECIFIC = 26
# Password methods other than PAP, by the attribute that carries the hash (RFC 2865,
# RFC 2548 Microsoft vendor 311, RFC 3579).
HASHED_PASSWORDS = ((CHAP_PASSWORD, "CHAP"), ((311, 1), "MS-CHAP"), ((311, 25), "MS-CHAPv2"),
                    (EAP_MESSAGE, "EAP"))


class MalformedAttribute(ValueError):
    """An attribute tesserad needs has a value it cannot use."""


@functools.cache
def dictionary() -> Dictionary:
    """The shipped dictionaries (``radius/dictionaries``), parsed once per process."""
    return shipped_dictionary()


def shipped_dictionary() -> Dictionary:
    """A new parse of the shipped dictionaries, for adding the operator's files to it."""
    path = resources.files("tesserad.radius") / "dictionaries" / "dictionary"
    with resources.as_file(path) as file:
        return Dictionary(str(file))


def structure_problem(data: bytes) -> str | None:
    """Why ``data`` is not a well-formed RADIUS packet, or None. Octets after the Length
    field are padding and ignored (RFC 2865 section 3)."""
    if len(data) < MIN_LENGTH:
        return f"{len(data)} octets, shorter than a RADIUS header"
    length = int.from_bytes(data[2:4], "big")
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        return f"Length field {length} is outside {MIN_LENGTH}..{MAX_LENGTH}"
    if len(data) < length:
        return f"truncated: {len(data)} of {length} octets"
    position = MIN_LENGTH
    while position < length:
        if length - position < 2:
            return "truncated attribute header"
        size = data[position + 1]
        if size < 2:
            return f"attribute {data[position]} has length {size}"
        if position + size > length:
            return f"attribute {data[position]} runs past the end of the packet"
        position += size
    return None


def raw_values(pkt: rp.Packet, code: int) -> list[bytes]:
    """Every value of attribute ``code``, undecoded, in the order received."""
    return list(dict.get(pkt, code, []))


def raw_value(pkt: rp.Packet, code: int) -> bytes | None:
    """The value of a single-valued attribute; None if absent, refused if repeated."""
    values = raw_values(pkt, code)
    if len(values) > 1:
        raise MalformedAttribute(f"attribute {code} appears {len(values)} times")
    return values[0] if values else None


def text(pkt: rp.Packet, code: int, *, strict: bool = True) -> str | None:
    """A single-valued text attribute as UTF-8 (RFC 2865 section 5); with ``strict`` invalid
    UTF-8 is refused, else replaced (for values that are only recorded)."""
    value = raw_value(pkt, code)
    if value is None:
        return None
    try:
        return value.decode("utf-8", "strict" if strict else "replace")
    except UnicodeDecodeError:
        raise MalformedAttribute(f"attribute {code} is not UTF-8 text") from None


def nas_identity(pkt: rp.Packet) -> str:
    """NAS-Identifier, else NAS-IP-Address, else NAS-IPv6-Address: who the NAS says it is."""
    identifier = text(pkt, NAS_IDENTIFIER, strict=False)
    if identifier:
        return identifier
    for code, size in ((NAS_IP_ADDRESS, 4), (NAS_IPV6_ADDRESS, 16)):
        value = raw_value(pkt, code)
        if value is not None:
            if len(value) != size:
                raise MalformedAttribute(f"attribute {code} has {len(value)} octets")
            return str(ipaddress.ip_address(value))
    return ""


def integer(pkt: rp.Packet, code: int) -> int | None:
    value = raw_value(pkt, code)
    if value is None:
        return None
    if len(value) != 4:
        raise MalformedAttribute(f"attribute {code} has {len(value)} octets, not 4")
    return int.from_bytes(value, "big")


def text_chunks(message: str, limit: int) -> list[str]:
    """``message`` cut into attribute values of at most MAX_ATTRIBUTE_VALUE octets on
    character boundaries, at most ``limit`` octets in all (RFC 2865 section 5.18: a NAS
    shows repeated Reply-Messages one after the other)."""
    chunks: list[str] = []
    current, current_size, used = "", 0, 0
    for char in message:
        size = len(char.encode())
        if used + size > limit:
            break
        if current_size + size > MAX_ATTRIBUTE_VALUE:
            chunks.append(current)
            current, current_size = "", 0
        current += char
        current_size += size
        used += size
    if current:
        chunks.append(current)
    return chunks


def enumerated(pkt: rp.Packet, code: int, attribute: str) -> str | None:
    """A single-valued integer attribute by its dictionary name (``Start`` for
    Acct-Status-Type 1), else its number."""
    number = integer(pkt, code)
    if number is None:
        return None
    values = dictionary().attributes[attribute].values
    raw = number.to_bytes(4, "big")
    return values.GetBackward(raw) if values.HasBackward(raw) else str(number)


def password_method(pkt: rp.Packet) -> str | None:
    """The name of the non-PAP password method a request uses, if any."""
    return next((name for key, name in HASHED_PASSWORDS if dict.get(pkt, key)), None)


def attribute_length(key: int | tuple[int, int], value: bytes) -> int:
    """Octets of one attribute on the wire; a VSA adds its type, length and vendor id."""
    return len(value) + 2 + (6 if isinstance(key, tuple) else 0)


def encoded(pkt: rp.Packet) -> bytes:
    """The reply packet as sent (pyrad's ReplyPacket, which carries no annotations)."""
    return bytes(pkt.ReplyPacket())


def encoded_length(pkt: rp.Packet) -> int:
    """Octets the packet will have: header, the attributes set so far, and the
    Message-Authenticator that pyrad adds when it encodes the packet."""
    signed = getattr(pkt, "message_authenticator", False) and MESSAGE_AUTHENTICATOR not in dict.keys(pkt)
    return (MIN_LENGTH + (18 if signed else 0)
            + sum(attribute_length(key, value) for key, values in dict.items(pkt) for value in values))
