"""The State of an Access-Challenge: unguessable, and bound to its client and user."""

from __future__ import annotations

from tesserad.core.auth.challenges import new_transaction_id
from tesserad.core.security.keyfile import KeyFileSecurityModule, KeyMaterial
from tesserad.radius.state import StateCodec


def test_state_round_trip_and_binding() -> None:
    keys = KeyMaterial.generate()
    codec = StateCodec(KeyFileSecurityModule(keys))
    tid = new_transaction_id()
    state = codec.issue(tid, "vpn", "alice")
    assert state.startswith(tid.encode()) and len(state) == len(tid) + 16
    assert codec.verify(state, "vpn", "alice") == tid
    # Another worker or node with the same keys verifies it; other keys do not.
    assert StateCodec(KeyFileSecurityModule(keys)).verify(state, "vpn", "alice") == tid
    assert StateCodec(KeyFileSecurityModule(KeyMaterial.generate())).verify(state, "vpn", "alice") is None
    assert codec.verify(state, "fw", "alice") is None
    assert codec.verify(state, "vpn", "Alice") is None
    # The separator cannot be shifted between the bound fields.
    assert codec.verify(codec.issue(tid, "vpn", "x\"alice"), "vpn\"x", "alice") is None
    for bad in (b"", b"short", state[:-1], b"\xff" + state[1:], b"!" * 20 + state[-16:]):
        assert codec.verify(bad, "vpn", "alice") is None
