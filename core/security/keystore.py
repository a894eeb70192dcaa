"""The key directory: creating key files safely, and loading them only if they are private.

Files are written to a temporary name and hard-linked into place, so a key is never
half-written and an existing key is never overwritten, even by two processes racing.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from tesserad.core.errors import KeyFileError
from tesserad.core.security.keyfile import KeyFileSecurityModule, KeyMaterial
from tesserad.core.security.signing import Signer

SECRETS_FILE = "secrets.key"
AUDIT_PRIVATE_FILE = "audit-signing.pem"
AUDIT_PUBLIC_FILE = "audit-verify.pem"
# The API's response signatures: a key of its own, so audit signatures cannot be obtained
# by sending requests. Key directories of older versions get it at the next start.
RESPONSE_PRIVATE_FILE = "response-signing.pem"
RESPONSE_PUBLIC_FILE = "response-verify.pem"
PRIVATE_FILES = (SECRETS_FILE, AUDIT_PRIVATE_FILE)


@dataclass(frozen=True)
class Keys:
    """What the rest of the daemon gets from the key directory."""

    security: KeyFileSecurityModule
    pepper: bytes
    audit_signer: Signer
    response_signer: Signer | None = None


class KeyStore:
    def __init__(self, key_dir: Path):
        self.key_dir = key_dir

    def existing(self) -> list[Path]:
        return [p for p in (self.key_dir / n for n in (*PRIVATE_FILES, AUDIT_PUBLIC_FILE, RESPONSE_PRIVATE_FILE,
                                                       RESPONSE_PUBLIC_FILE)) if p.exists()]

    def create(self) -> list[Path]:
        """Generate all keys; refuse if any key file is already there."""
        present = self.existing()
        if present:
            raise KeyFileError(f"refusing to overwrite existing key file {present[0]}")
        try:
            self.key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyFileError(f"cannot create key directory {self.key_dir}: {exc.strerror}") from None
        signer = Signer.generate()
        contents = {
            SECRETS_FILE: KeyMaterial.generate().to_json().encode(),
            AUDIT_PRIVATE_FILE: signer.private_pem(),
            AUDIT_PUBLIC_FILE: signer.public_pem(),
        }
        created = [write_new_file(self.key_dir / name, data) for name, data in contents.items()]
        return created + self.add_missing()

    def add_missing(self) -> list[Path]:
        """Create the response signing key pair if this key directory has none yet."""
        if (self.key_dir / RESPONSE_PRIVATE_FILE).exists():
            return []
        signer = Signer.generate()
        return [write_new_file(self.key_dir / RESPONSE_PUBLIC_FILE, signer.public_pem()),
                write_new_file(self.key_dir / RESPONSE_PRIVATE_FILE, signer.private_pem())]

    def load(self) -> Keys:
        """Read every key, refusing files that others may read or write."""
        material = KeyMaterial.from_json(
            read_private_file(self.key_dir / SECRETS_FILE).decode("utf-8", "replace"),
            str(self.key_dir / SECRETS_FILE))
        signer = Signer.from_pem(read_private_file(self.key_dir / AUDIT_PRIVATE_FILE),
                                 str(self.key_dir / AUDIT_PRIVATE_FILE))
        response = self.key_dir / RESPONSE_PRIVATE_FILE
        responses = Signer.from_pem(read_private_file(response), str(response)) if response.exists() else None
        return Keys(KeyFileSecurityModule(material), material.pepper, signer, responses)


def write_new_file(path: Path, data: bytes, mode: int = 0o600) -> Path:
    """Create ``path`` with ``data`` atomically; fail if it exists."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)
    except FileExistsError:
        raise KeyFileError(f"refusing to overwrite existing key file {path}") from None
    except OSError as exc:
        raise KeyFileError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_private_file(path: Path) -> bytes:
    """Read a key file that only its owner may access."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} is missing (create keys with `tesserad-manage keys create`)") from None
    except OSError as exc:
        raise KeyFileError(f"cannot open key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(f"key file {path} is accessible by group or others "
                               f"(mode {stat.S_IMODE(mode):04o}); run chmod 600 {path}")
        return fh.read()
