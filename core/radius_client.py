"""An outgoing RADIUS client (RFC 2865) for ``passthru=<RADIUS server>``: one
Access-Request with User-Name, User-Password and a Message-Authenticator, answered by
Access-Accept (yes) or Access-Reject (no).

Replies count only if their Response Authenticator and Message-Authenticator verify
against the request (BlastRADIUS, CVE-2024-3596: a reply without Message-Authenticator is
ignored too); anything else is dropped like noise. A server that gives no valid answer
within ``timeout`` seconds after each of the ``1 + retries`` sends is ``Unavailable``:
not a "no", the question may be answered elsewhere or later. The call blocks, so it runs
where core work runs (the worker threads), never on the reactor.
"""

from __future__ import annotations

import io
import socket
import time
from dataclasses import dataclass

from pyrad import packet
from pyrad.dictionary import Dictionary

from tesserad.core.errors import Unavailable

# The attributes this client sends and reads; nothing else is decoded.
_DICTIONARY = Dictionary(io.StringIO(
    "ATTRIBUTE User-Name 1 string\n"
    "ATTRIBUTE User-Password 2 string encrypt=1\n"
    "ATTRIBUTE Reply-Message 18 string\n"
    "ATTRIBUTE NAS-Identifier 32 string\n"
    "ATTRIBUTE Message-Authenticator 80 octets\n"))
_MAX_PACKET = 4096


@dataclass(frozen=True)
class Upstream:
    """Where to ask and how patiently: a RADIUS server definition, secret decrypted."""

    server: str
    port: int
    secret: bytes
    timeout: int = 5
    retries: int = 3

    def __repr__(self) -> str:  # never show the secret
        return f"Upstream({self.server!r}, {self.port})"


def authenticate(upstream: Upstream, user: str, password: str, nas_identifier: str = "tesserad") -> bool:
    """Whether ``upstream`` accepts ``user`` with ``password`` (Access-Challenge counts as
    no: a passthru login has no second round). Raises ``Unavailable`` on silence."""
    request = packet.AuthPacket(code=packet.AccessRequest, secret=upstream.secret, dict=_DICTIONARY,
                                message_authenticator=True)
    request["User-Name"] = user
    request["User-Password"] = request.PwCrypt(password)
    request["NAS-Identifier"] = nas_identifier
    raw = request.RequestPacket()
    try:
        addresses = socket.getaddrinfo(upstream.server, upstream.port, type=socket.SOCK_DGRAM)
    except OSError as failure:
        raise Unavailable(f"the RADIUS server {upstream.server} cannot be resolved: {failure.strerror}") from None
    family, _, _, _, address = addresses[0]
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        for _ in range(1 + max(upstream.retries, 0)):
            sock.send(raw)
            reply = _await_reply(sock, request, time.monotonic() + upstream.timeout)
            if reply is not None:
                return bool(reply.code == packet.AccessAccept)
    raise Unavailable(f"the RADIUS server {upstream.server}:{upstream.port} did not answer")


def _await_reply(sock: socket.socket, request: packet.AuthPacket, deadline: float) -> packet.Packet | None:
    """The first reply that verifies before ``deadline``; others are dropped."""
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(_MAX_PACKET)
        except TimeoutError:
            return None
        except OSError:  # ICMP port unreachable: nobody listens, which is silence too
            return None
        try:
            reply = packet.Packet(packet=data, secret=request.secret, dict=_DICTIONARY)
        except packet.PacketError:
            continue
        if reply.code in (packet.AccessAccept, packet.AccessReject, packet.AccessChallenge) and \
                request.VerifyReply(reply, data, enforce_ma=True):
            return reply
    return None
