"""A minimal upstream RADIUS server (pyrad, a real UDP socket on loopback) for the
passthru tests: it accepts the passwords it knows, rejects the others, stays silent for
``silent`` users and, for ``forged`` users, answers with a reply signed by a wrong secret.
Every request it saw is kept, with whether its Message-Authenticator verified."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyrad import packet
from pyrad.dictionary import Dictionary

DICTIONARY = Dictionary(str(Path(__file__).parents[1] / "radius" / "dictionaries" / "dictionary"))


@dataclass
class Seen:
    user: str
    message_authenticator_ok: bool
    nas_identifier: str


@dataclass
class Upstream:
    secret: bytes
    passwords: dict[str, str]
    silent: set[str] = field(default_factory=set)
    forged: set[str] = field(default_factory=set)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)  # the loop's chance to see ``stop``
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            request = packet.AuthPacket(packet=data, secret=self.secret, dict=DICTIONARY)
            user = request["User-Name"][0]
            signed = request.message_authenticator and request.verify_message_authenticator()
            self.seen.append(Seen(user, bool(signed), request.get("NAS-Identifier", [""])[0]))
            if user in self.silent:
                continue
            reply = request.CreateReply()
            known = self.passwords.get(user)
            password = request.PwDecrypt(request["User-Password"][0])
            reply.code = packet.AccessAccept if known is not None and password == known else packet.AccessReject
            reply.add_message_authenticator()
            if user in self.forged:
                reply.secret = b"not-the-secret"
            self.sock.sendto(reply.ReplyPacket(), peer)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def upstream(secret: bytes, passwords: dict[str, str], **kwargs: set[str]) -> Iterator[Upstream]:
    """For a fixture: the running upstream, closed afterwards."""
    running = Upstream(secret, passwords, **kwargs)
    try:
        yield running
    finally:
        running.close()
