"""Token seed files (``POST /token/load``): each format is parsed into ``ImportedToken``s,
which ``TokenService.init`` then creates like an enrollment with a given key.

Parsers only read: a file that cannot be read as a whole is a ``ParameterError`` (nothing
is imported); a single token that cannot be imported is listed in ``ParsedFile.failed``
with the reason, which never contains key material.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree  # nosec B405  # parsed only by base.xml_root (no DOCTYPE, capped)
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tesserad.core.tokens.base import ParameterError

# Hash algorithm by OATH seed length in hex digits (privacyIDEA's rule); sha1 otherwise.
HASHLIB_BY_HEX_LENGTH = {64: "sha256", 128: "sha512"}
MAX_XML = 1024 * 1024
# Entity declarations are how XML bombs and external entities get in; seed files need none.
_UNSAFE_XML = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class Owner:
    """The user a version 2 OATH CSV line assigns its token to."""

    login: str
    resolver: str
    realm: str


@dataclass
class ImportedToken:
    """One token of a file: ``params`` as /token/init takes them (``otpkey`` in hex)."""

    serial: str
    type: str
    params: dict[str, Any]
    counter: int = 0
    owner: Owner | None = None

    def init_params(self) -> dict[str, Any]:
        return {**self.params, "type": self.type, "serial": self.serial}


@dataclass
class ParsedFile:
    tokens: list[ImportedToken] = field(default_factory=list)
    # serial (or line) -> why it was not imported
    failed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportOptions:
    """The request parameters a format may need."""

    password: str | None = None
    psk: str | None = None
    validate_mac: str = "check_fail_hard"


Parser = Callable[[str, ImportOptions], ParsedFile]
PARSERS: dict[str, Parser] = {}


def parser(name: str) -> Callable[[Parser], Parser]:
    def register(fn: Parser) -> Parser:
        PARSERS[name] = fn
        return fn
    return register


def hashlib_for_seed(seed_hex: str) -> str:
    return HASHLIB_BY_HEX_LENGTH.get(len(seed_hex), "sha1")


def hex_seed(value: str, where: str) -> str:
    """A seed given as hex, normalized; a ParameterError names ``where`` (never the value)."""
    seed = value.strip().lower()
    if not seed or len(seed) % 2 or any(c not in "0123456789abcdef" for c in seed):
        raise ParameterError(f"{where}: the seed is not hexadecimal")
    return seed


def options_of(params: Mapping[str, str | None]) -> ImportOptions:
    mode = params.get("pskcValidateMAC") or "check_fail_hard"
    if mode not in ("no_check", "check_fail_soft", "check_fail_hard"):
        raise ParameterError("parameter pskcValidateMAC must be no_check, check_fail_soft or check_fail_hard")
    return ImportOptions(password=params.get("password") or None, psk=params.get("psk") or None,
                         validate_mac=mode)


def xml_root(text: str, what: str) -> ElementTree.Element:
    """The root element of an XML seed file; no DOCTYPE, at most MAX_XML characters."""
    if len(text) > MAX_XML or _UNSAFE_XML.search(text):
        raise ParameterError(f"{what}: the file is too large or has a DOCTYPE (not allowed)")
    try:
        return ElementTree.fromstring(text)  # nosec B314  # DOCTYPE refused and size capped above
    except ElementTree.ParseError as exc:
        raise ParameterError(f"{what}: not well-formed XML ({exc})") from None
