"""Response signing: every JSON answer (results, errors, /validate) ends with a
``signature`` a client can verify with ``response-verify.pem``; ``web.sign_responses = false``
leaves it out; the key pair is created with the other keys and added to older key dirs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from treq.testing import StubTreq

from tesserad.admin_web.health import Health
from tesserad.admin_web.site import Root, build_site
from tesserad.core.security.keystore import RESPONSE_PRIVATE_FILE, RESPONSE_PUBLIC_FILE, KeyStore
from tesserad.core.security.signing import verify_with

from tests.helpers import run_inline
from tests.http.restapi import Api
from tests.wired import RFC4226


def signed_part(body: dict[str, Any]) -> bytes:
    """What the signature covers: the answer without it, serialized as the spec of the field says."""
    return json.dumps({k: v for k, v in body.items() if k != "signature"}, sort_keys=True,
                      separators=(",", ":")).encode()


def test_answers_are_signed_and_verifiable(api: Api) -> None:
    public = api.ctx.keys.response_signer.public_key  # type: ignore[union-attr]
    api.core.enroll("alice", type="hotp", otpkey=b"12345678901234567890".hex())
    answers = [api.call("GET", "/token/", api.admin()),
               api.call("GET", "/token/", "bad token"),
               api.call("POST", "/validate/check", params={"user": "alice", "pass": RFC4226[0]}),
               api.call("GET", "/no/such/path")]
    assert [status for status, _ in answers] == [200, 401, 200, 404]
    for _, body in answers:
        assert body["signature"].startswith("ed25519:") and verify_with(public, signed_part(body), body["signature"])
        forged = {**body, "time": body["time"] + 1}
        assert not verify_with(public, signed_part(forged), body["signature"])


def test_signing_can_be_turned_off(api: Api) -> None:
    api.configure(sign_responses=False)
    root = Root(Health(run_inline, lambda: None))
    rest = root.attach(run_inline, api.ctx, api.rest.config)  # the setting is read when the routes are attached
    unsigned = Api(api.core, api.ctx, rest, StubTreq(build_site(root).resource))
    status, body = unsigned.call("GET", "/token/", unsigned.admin())
    assert status == 200 and "signature" not in body


def test_the_key_pair_is_created_and_added_to_old_key_dirs(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    store.create()
    assert store.load().response_signer is not None
    for name in (RESPONSE_PRIVATE_FILE, RESPONSE_PUBLIC_FILE):
        assert (tmp_path / "keys" / name).stat().st_mode & 0o077 == 0
        os.unlink(tmp_path / "keys" / name)
    assert store.load().response_signer is None  # a key dir of an older version
    created = store.add_missing()
    signer = store.load().response_signer
    assert [p.name for p in created] == [RESPONSE_PUBLIC_FILE, RESPONSE_PRIVATE_FILE] and signer is not None
    public = load_pem_public_key((tmp_path / "keys" / RESPONSE_PUBLIC_FILE).read_bytes())
    assert verify_with(public, b"x", signer.sign(b"x"))  # type: ignore[arg-type]
    assert store.add_missing() == []
