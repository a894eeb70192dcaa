"""Keys and secrets: AEAD round trips and tampering, key files, signatures, hashing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tesserad.core.errors import DecryptionError, KeyFileError
from tesserad.core.security.hashing import SecretHasher
from tesserad.core.security.keyfile import KeyFileSecurityModule, KeyMaterial
from tesserad.core.security.keystore import (
    AUDIT_PRIVATE_FILE,
    AUDIT_PUBLIC_FILE,
    RESPONSE_PRIVATE_FILE,
    RESPONSE_PUBLIC_FILE,
    SECRETS_FILE,
    KeyStore,
)
from tesserad.core.security.signing import Signer

CHEAP = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


@pytest.fixture
def module() -> KeyFileSecurityModule:
    return KeyFileSecurityModule(KeyMaterial.generate())


def test_round_trip_with_context(module: KeyFileSecurityModule) -> None:
    sealed = module.encrypt(b"3132333435363738393031323334353637383930", context=b"token:OATH1")
    assert b"3132333435" not in sealed
    assert sealed[0] == 1  # format version byte
    assert module.decrypt(sealed, context=b"token:OATH1") == b"3132333435363738393031323334353637383930"
    assert module.encrypt(b"x") != module.encrypt(b"x")  # fresh nonce every time


def test_every_tampered_byte_is_rejected(module: KeyFileSecurityModule) -> None:
    sealed = module.encrypt(b"seed", context=b"token:A")
    for index in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[index] ^= 0x01
        with pytest.raises(DecryptionError):
            module.decrypt(bytes(tampered), context=b"token:A")


def test_wrong_context_truncation_and_unknown_key(module: KeyFileSecurityModule) -> None:
    sealed = module.encrypt(b"seed", context=b"token:A")
    with pytest.raises(DecryptionError, match="failed authentication"):
        module.decrypt(sealed, context=b"token:B")
    with pytest.raises(DecryptionError, match="truncated"):
        module.decrypt(sealed[:20], context=b"token:A")
    other = KeyFileSecurityModule(KeyMaterial(7, {7: os.urandom(32)}, os.urandom(32), os.urandom(32)))
    with pytest.raises(DecryptionError, match="key 7"):
        module.decrypt(other.encrypt(b"seed"))


def test_rotation_keeps_old_ciphertexts_readable() -> None:
    old = KeyMaterial.generate()
    sealed = KeyFileSecurityModule(old).encrypt(b"seed")
    rotated = KeyMaterial(2, {**old.keys, 2: os.urandom(32)}, old.mac_key, old.pepper)
    module = KeyFileSecurityModule(rotated)
    assert module.decrypt(sealed) == b"seed"
    assert module.encrypt(b"seed")[1:3] == b"\x00\x02"


def test_hmac_keys_differ_by_purpose(module: KeyFileSecurityModule) -> None:
    assert module.hmac(b"data", purpose="a") == module.hmac(b"data", purpose="a")
    assert module.hmac(b"data", purpose="a") != module.hmac(b"data", purpose="b")
    assert len(module.random(32)) == 32


def test_keystore_creates_private_files_and_never_overwrites(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    created = store.create()
    assert sorted(p.name for p in created) == sorted([SECRETS_FILE, AUDIT_PRIVATE_FILE, AUDIT_PUBLIC_FILE,
                                                      RESPONSE_PRIVATE_FILE, RESPONSE_PUBLIC_FILE])
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in created)
    before = (tmp_path / "keys" / SECRETS_FILE).read_bytes()
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        store.create()
    assert (tmp_path / "keys" / SECRETS_FILE).read_bytes() == before
    assert not [p for p in (tmp_path / "keys").iterdir() if p.name.startswith(".")]
    keys = store.load()
    assert keys.security.decrypt(keys.security.encrypt(b"x")) == b"x"


@pytest.mark.parametrize("name", [SECRETS_FILE, AUDIT_PRIVATE_FILE])
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_keystore_refuses_keys_others_can_read(tmp_path: Path, name: str, mode: int) -> None:
    store = KeyStore(tmp_path)
    store.create()
    (tmp_path / name).chmod(mode)
    with pytest.raises(KeyFileError, match=f"{name} is accessible by group or others .mode 0{mode:o}"):
        store.load()


def test_keystore_reports_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="missing"):
        KeyStore(tmp_path).load()
    KeyStore(tmp_path).create()
    (tmp_path / SECRETS_FILE).write_text('{"format": 1}')
    with pytest.raises(KeyFileError, match="malformed key file"):
        KeyStore(tmp_path).load()


def test_signatures_detect_changes() -> None:
    signer = Signer.generate()
    signature = signer.sign(b"audit row")
    assert signer.verify(b"audit row", signature)
    assert not signer.verify(b"audit row!", signature)
    last = signature[-1]
    assert not signer.verify(b"audit row", signature[:-1] + ("0" if last != "0" else "1"))
    assert not signer.verify(b"audit row", "garbage")
    reloaded = Signer.from_pem(signer.private_pem(), "test")
    assert reloaded.verify(b"audit row", signature)


def test_hashes_are_argon2id_peppered_and_salted() -> None:
    hasher = SecretHasher(b"p" * 32, **CHEAP)
    stored = hasher.hash("1234")
    assert stored.startswith("$argon2id$") and "1234" not in stored
    assert hasher.hash("1234") != stored
    assert hasher.verify(stored, "1234")
    assert not hasher.verify(stored, "1235")
    assert not hasher.verify("not a hash", "1234")
    assert not SecretHasher(b"q" * 32, **CHEAP).verify(stored, "1234")  # another install's pepper
    assert not hasher.verify_nothing("1234")


def test_needs_rehash_follows_the_configured_parameters() -> None:
    stored = SecretHasher(b"p" * 32, **CHEAP).hash("pw")
    assert not SecretHasher(b"p" * 32, **CHEAP).needs_rehash(stored)
    assert SecretHasher(b"p" * 32, time_cost=2, memory_cost=1024, parallelism=1).needs_rehash(stored)
