"""Random, mutated and well-signed-but-absurd packets thrown at both ports (a bounded,
seeded count): every one is dropped or answered, none breaks the protocol, and a valid
request is answered afterwards."""

from __future__ import annotations

import hashlib
import hmac
import random

from pyrad import packet as rp

from tests.radius.conftest import NAS, build_edge
from tests.radius.nas import SECRET, access_request, accounting_request, status_server, verified_reply
from tests.wired import RFC4226, RFC_SEED_HEX, Core

COUNT = 3000
SOURCES = [NAS, ("127.0.0.2", 1645), ("127.0.0.3", 1645), ("192.0.2.1", 1812)]


def random_attributes(rng: random.Random) -> bytes:
    out = b""
    for _ in range(rng.randrange(0, 8)):
        value = rng.randbytes(rng.choice([0, 1, 2, 4, 6, 16, 17, 32, rng.randrange(0, 60)]))
        out += bytes([rng.choice([1, 2, 3, 4, 24, 26, 31, 32, 33, 40, 44, 46, 49, 79, 95, rng.randrange(256)]),
                      len(value) + 2]) + value
    return out


def signed_access(rng: random.Random) -> bytes:
    """An Access-Request with random attributes and a valid Message-Authenticator: it gets
    past the authenticity checks into the attribute handling."""
    attributes = bytes([80, 18]) + b"\x00" * 16 + random_attributes(rng)
    header = bytes([rng.choice([1, 12]), rng.randrange(256)]) + (20 + len(attributes)).to_bytes(2, "big")
    authenticator = rng.randbytes(16)
    mac = hmac.new(SECRET, header + authenticator + attributes, "md5").digest()
    return header + authenticator + attributes[:2] + mac + attributes[18:]


def signed_accounting(rng: random.Random) -> bytes:
    attributes = random_attributes(rng)
    header = bytes([4, rng.randrange(256)]) + (20 + len(attributes)).to_bytes(2, "big")
    return header + hashlib.md5(header + b"\x00" * 16 + attributes + SECRET).digest() + attributes


def mutated(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randrange(1, 5)):
        choice = rng.random()
        if choice < 0.6 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice < 0.8:
            del data[rng.randrange(len(data) + 1):]
        else:
            data += rng.randbytes(rng.randrange(1, 40))
    return bytes(data)


def test_fuzzed_packets_never_break_the_listener(core: Core) -> None:
    edge = build_edge(core)
    serial = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    seeds = [access_request(password="1234" + RFC4226[0]).RequestPacket(),
             access_request(password="1234", message_authenticator=False).RequestPacket(),
             status_server().RequestPacket(), accounting_request().RequestPacket()]
    rng = random.Random(20261123)
    generators = [lambda: rng.randbytes(rng.randrange(0, 200)), lambda: mutated(rng, rng.choice(seeds)),
                  lambda: signed_access(rng), lambda: signed_accounting(rng)]
    answered = {rp.AccessAccept: 0, rp.AccessReject: 0, rp.AccountingResponse: 0}
    for _ in range(COUNT):
        data = rng.choice(generators)()
        for reply in edge.send(data, rng.choice(SOURCES), accounting=rng.random() < 0.3):
            answered[reply[0]] += 1
    # The signed absurd packets got past the authenticity checks into the attribute handling.
    assert min(answered.values()) > 50, answered
    failures = [event for event in edge.events if "log_failure" in event]
    assert failures == [], edge.log_lines()[:5]
    # Only copies of the valid seed (padded, say) could log in; the wrong ones count as
    # failures like any wrong OTP, so the answer afterwards is checked with another user.
    assert core.token(serial).count <= 1
    core.enroll("bob", type="hotp", otpkey=RFC_SEED_HEX, pin="5678")
    req = access_request("bob", "5678" + RFC4226[0])
    [raw] = edge.send(req.RequestPacket())
    assert verified_reply(req, raw).code == rp.AccessAccept
