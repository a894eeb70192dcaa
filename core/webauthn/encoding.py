"""privacyIDEA's web-safe base64: the URL-safe alphabet, padding optional on input and
never written. Decoding is strict so that a typo is refused with the field's name instead
of silently becoming different bytes."""

import base64
import re

from tesserad.core.webauthn.errors import WebAuthnInputError

# One field of an answer: a clientDataJSON is a few hundred bytes, an attestation object
# with a certificate chain a few KiB. Anything far above is refused before decoding.
MAX_FIELD_LENGTH = 16384

_WEBSAFE = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str, name: str, *, max_length: int = MAX_FIELD_LENGTH) -> bytes:
    """The bytes of ``value``; ``name`` is the request parameter the message names."""
    if not isinstance(value, str):
        raise WebAuthnInputError(f"{name} must be a web-safe base64 string")
    if len(value) > max_length:
        raise WebAuthnInputError(f"{name} is longer than {max_length} characters")
    if not _WEBSAFE.fullmatch(value) or len(value.rstrip("=")) % 4 == 1:
        raise WebAuthnInputError(f"{name} is not web-safe base64")
    stripped = value.rstrip("=")
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
