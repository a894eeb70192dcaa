"""Packet structure checks and attribute helpers, before and around pyrad's decoding."""

from __future__ import annotations

import pytest

from tesserad.radius import wire

from tests.radius.nas import access_request


def with_length(data: bytes, length: int | None = None) -> bytes:
    length = len(data) if length is None else length
    return data[:2] + length.to_bytes(2, "big") + data[4:]


def test_a_valid_request_passes_and_padding_is_ignored() -> None:
    raw = access_request(password="1234").RequestPacket()
    assert wire.structure_problem(raw) is None
    assert wire.structure_problem(raw + b"\x00" * 30) is None  # octets beyond Length are padding


@pytest.mark.parametrize("data, reason", [
    (b"\x01\x02\x00", "3 octets, shorter than a RADIUS header"),
    (with_length(b"\x01\x02" + b"\x00" * 18, 19), "Length field 19 is outside 20..4096"),
    (with_length(b"\x01\x02" + b"\x00" * 4098), "Length field 4100 is outside 20..4096"),
    (with_length(b"\x01\x02" + b"\x00" * 30, 60), "truncated: 32 of 60 octets"),
    (with_length(b"\x01\x02" + b"\x00" * 18 + b"\x01"), "truncated attribute header"),
    (with_length(b"\x01\x02" + b"\x00" * 18 + b"\x01\x01"), "attribute 1 has length 1"),
    (with_length(b"\x01\x02" + b"\x00" * 18 + b"\x01\x08abc"), "attribute 1 runs past the end of the packet"),
])
def test_malformed_structures_are_named(data: bytes, reason: str) -> None:
    assert wire.structure_problem(data) == reason


def test_reply_message_chunks_respect_attribute_size_characters_and_the_total() -> None:
    assert wire.text_chunks("", 100) == []
    assert wire.text_chunks("short", 100) == ["short"]
    chunks = wire.text_chunks("€" * 100, 1000)  # 3 octets each: 84 fit into 253
    assert [len(c) for c in chunks] == [84, 16] and "".join(chunks) == "€" * 100
    assert wire.text_chunks("€" * 100, 10) == ["€€€"]


def test_attributes_are_read_raw_and_repeated_single_values_refused() -> None:
    req = access_request(password="1234")
    req.AddAttribute("NAS-Identifier", "second")
    with pytest.raises(wire.MalformedAttribute, match="appears 2 times"):
        wire.nas_identity(req)
    req = access_request(password="1234")
    del req["NAS-Identifier"]
    assert wire.nas_identity(req) == ""
    req["NAS-IP-Address"] = "192.0.2.1"
    assert wire.nas_identity(req) == "192.0.2.1"
    req[wire.NAS_IP_ADDRESS] = [b"\x01\x02"]
    with pytest.raises(wire.MalformedAttribute, match="has 2 octets"):
        wire.nas_identity(req)
    for raw, name in ((b"\x00\x00\x00\x01", "Start"), (b"\x00\x00\x00\x63", "99")):
        req[wire.ACCT_STATUS_TYPE] = [raw]
        assert wire.enumerated(req, wire.ACCT_STATUS_TYPE, "Acct-Status-Type") == name
    assert wire.enumerated(req, wire.ACCT_TERMINATE_CAUSE, "Acct-Terminate-Cause") is None
