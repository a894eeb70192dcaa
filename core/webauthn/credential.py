"""The stored half of a WebAuthn credential, kept as tokeninfo of its token.

The signature counter is not part of the record: it lives in the token's ``count``
column, where an atomic conditional UPDATE moves it forward (see ``counter_moves_on``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from tesserad.core.webauthn.encoding import b64url_decode, b64url_encode

# Tokeninfo keys, privacyIDEA's names where it has one.
CREDENTIAL_ID = "credential_id"
PUBLIC_KEY = "pubKey"
RP_ID = "relying_party_id"
RP_NAME = "relying_party_name"
AAGUID = "aaguid"
FMT = "attestation_format"
TRANSPORTS = "transports"


@dataclass(frozen=True)
class StoredCredential:
    credential_id: bytes
    public_key: bytes  # the COSE key as the authenticator sent it
    rp_id: str
    rp_name: str = ""
    aaguid: str = ""
    fmt: str = "none"
    transports: tuple[str, ...] = ()

    KEYS: ClassVar[tuple[str, ...]] = (CREDENTIAL_ID, PUBLIC_KEY, RP_ID, RP_NAME, AAGUID, FMT, TRANSPORTS)

    def to_info(self) -> dict[str, str]:
        return {CREDENTIAL_ID: b64url_encode(self.credential_id), PUBLIC_KEY: b64url_encode(self.public_key),
                RP_ID: self.rp_id, RP_NAME: self.rp_name, AAGUID: self.aaguid, FMT: self.fmt,
                TRANSPORTS: " ".join(self.transports)}

    @classmethod
    def from_info(cls, info: Mapping[str, str]) -> StoredCredential:
        return cls(credential_id=b64url_decode(info[CREDENTIAL_ID], CREDENTIAL_ID),
                   public_key=b64url_decode(info[PUBLIC_KEY], PUBLIC_KEY),
                   rp_id=info[RP_ID], rp_name=info.get(RP_NAME, ""), aaguid=info.get(AAGUID, ""),
                   fmt=info.get(FMT, "none"), transports=tuple(info.get(TRANSPORTS, "").split()))


def counter_moves_on(stored: int, presented: int) -> bool:
    """WebAuthn §6.1.1: an authenticator that keeps no counter sends 0 forever; any other
    must send more than last time, or it (or a clone of it) is replaying."""
    return (stored == 0 and presented == 0) or presented > stored
