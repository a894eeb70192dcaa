"""The trust anchors of ``trusted`` attestation: privacyIDEA's system config key
``webauthn.trust_anchor_dir``, a directory of PEM CA certificates.

A system config key (``/system/setConfig``), not the TOML file, because privacyIDEA keeps it
there and admins set it through the same call. The certificates are read once per directory
and again only when the directory's mtime changes (a file added, removed or renamed)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tesserad.core.webauthn.errors import WebAuthnRefused

CONFIG_KEY = "webauthn.trust_anchor_dir"

_lock = threading.Lock()
_cache: dict[str, tuple[int, tuple[bytes, ...]]] = {}


def _read(directory: Path) -> tuple[bytes, ...]:
    """Every certificate of the directory's files, each as one PEM block; files that are no
    PEM certificates are skipped (a README, a key)."""
    found: list[bytes] = []
    for path in sorted(directory.iterdir()):
        if not path.is_file():
            continue
        try:
            certificates = x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError):
            continue
        found.extend(cert.public_bytes(Encoding.PEM) for cert in certificates)
    return tuple(found)


def trust_anchors(directory: str | None) -> tuple[bytes, ...]:
    """The PEM certificates in ``directory``; a clear refusal when none can be had, since
    ``trusted`` attestation cannot be checked without them."""
    if not directory:
        raise WebAuthnRefused(f"trusted attestation is required but the system config {CONFIG_KEY} is not set")
    path = Path(directory)
    try:
        mtime = os.stat(path).st_mtime_ns
        with _lock:
            cached = _cache.get(directory)
            if cached is None or cached[0] != mtime:
                cached = (mtime, _read(path))
                _cache[directory] = cached
    except OSError:
        raise WebAuthnRefused(f"trusted attestation is required but {CONFIG_KEY} ({directory}) "
                              "cannot be read") from None
    if not cached[1]:
        raise WebAuthnRefused(f"trusted attestation is required but {CONFIG_KEY} ({directory}) "
                              "holds no PEM certificate")
    return cached[1]
