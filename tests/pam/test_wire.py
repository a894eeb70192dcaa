"""The version 1 frame codec: round trips, bounds, and how it refuses what breaks the protocol."""

from __future__ import annotations

import pytest

from tesserad.pam_module import wire
from tesserad.pam_module.request import PamOutcome, PamReply


def test_request_round_trip_in_any_chunking() -> None:
    frame = wire.encode({"v": "1", "op": "auth", "user": "jörg", "password": "12=34\n", "rhost": "::1",
                         "state": "0123", "future_field": "ignored"})
    reader = wire.FrameReader(8192)
    payloads = [p for byte in frame for p in reader.feed(bytes([byte]))]
    assert len(payloads) == 1 and reader.pending == 0
    request = wire.request(wire.decode(payloads[0]), "host1")
    assert (request.user, request.password, request.rhost, request.state, request.realm, request.host) == (
        "jörg", "12=34\n", "::1", "0123", None, "host1")


def test_two_frames_in_one_read_and_a_partial_third() -> None:
    one = wire.encode({"a": "1"})
    reader = wire.FrameReader(64)
    assert reader.feed(one + one + one[:5]) == [one[4:], one[4:]]
    assert reader.pending == 5


@pytest.mark.parametrize("header", [b"\x00\x00\x00\x00", b"\x00\x00\x00\x41", b"\xff\xff\xff\xff"])
def test_lengths_out_of_bounds_are_refused_from_the_header(header: bytes) -> None:
    with pytest.raises(wire.FrameError, match=r"a frame of \d+ bytes \(allowed: 1 to 64\)"):
        wire.FrameReader(64).feed(header)


@pytest.mark.parametrize("payload, reason", [
    (b"v=1", "does not end with a NUL byte"),
    (b"v=1\0\xff\xfe\0", "not UTF-8"),
    (b"novalue\0", "field 0 is not key=value"),
    (b"Upper=1\0", "field 0 is not key=value"),
    (b"v=1\0v=2\0", "'v' appears twice"),
    (b"".join(b"k%d=1\0" % i for i in range(33)), "more than 32 fields"),
])
def test_malformed_payloads(payload: bytes, reason: str) -> None:
    with pytest.raises(wire.FrameError, match=reason):
        wire.decode(payload)


def test_replies_carry_no_nul_and_bounded_messages() -> None:
    frame = wire.reply(PamReply(PamOutcome.CHALLENGE, "é" * 5000 + "\0", "42"))
    fields = wire.decode(frame[4:])
    assert fields["result"] == "challenge" and fields["state"] == "42"
    assert fields["message"] == "é" * 2048  # cut at 4096 bytes, on a character boundary
    with pytest.raises(wire.FrameError, match="cannot be encoded"):
        wire.encode({"password": "a\0b"})
