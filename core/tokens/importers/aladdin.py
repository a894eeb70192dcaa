"""SafeNet/Aladdin XML (``aladdin-xml``, deprecated in privacyIDEA): HOTP tokens
``<Tokens><Token serial=...><Applications><Application><Seed>hex</Seed>
<MovingFactor>n</MovingFactor>``; sha256 for 64-digit seeds, else sha1."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree  # nosec B405  # parsed only by base.xml_root (no DOCTYPE, capped)

from tesserad.core.tokens.base import ParameterError
from tesserad.core.tokens.importers.base import ImportedToken, ImportOptions, ParsedFile, hex_seed, parser, xml_root


def _token(element: ElementTree.Element, where: str) -> ImportedToken:
    serial = (element.get("serial") or "").strip()
    if not serial:
        raise ParameterError(f"{where}: no serial")
    application = element.find("Applications/Application")
    seed = hex_seed(application.findtext("Seed", "") if application is not None else "", serial)
    moving = (application.findtext("MovingFactor", "0") if application is not None else "0").strip()
    if not moving.isdigit():
        raise ParameterError(f"{serial}: MovingFactor is not a number")
    return ImportedToken(serial, "hotp", {"otpkey": seed, "hashlib": "sha256" if len(seed) == 64 else "sha1"},
                         counter=int(moving))


@parser("aladdin-xml")
def parse(text: str, options: ImportOptions) -> ParsedFile:
    root = xml_root(text, "aladdin-xml")
    parsed = ParsedFile()
    for number, element in enumerate(root.iter("Token"), start=1):
        try:
            parsed.tokens.append(_token(element, f"token {number}"))
        except ParameterError as exc:
            parsed.failed[element.get("serial") or f"token {number}"] = str(exc)
    return parsed
