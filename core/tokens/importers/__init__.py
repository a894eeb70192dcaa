"""Token seed files (``POST /token/load``): one module per format, registered by name."""

from __future__ import annotations

from tesserad.core.tokens.base import ParameterError
from tesserad.core.tokens.importers import aladdin, oathcsv, pskc, yubikeycsv  # noqa: F401  (registration)
from tesserad.core.tokens.importers.base import PARSERS, ImportOptions, ParsedFile


def parse(kind: str, text: str, options: ImportOptions) -> ParsedFile:
    """Parse ``text`` as the file type ``kind`` (``oathcsv``, ``yubikeycsv``, ``pskc``, ``aladdin-xml``)."""
    found = PARSERS.get(kind.lower())
    if found is None:
        raise ParameterError(f"parameter type must be one of {', '.join(sorted(PARSERS))}")
    return found(text, options)
