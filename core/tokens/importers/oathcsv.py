"""OATH CSV (``oathcsv``): one token per line, as privacyIDEA reads it.

    <serial>, <seed hex>[, HOTP[, <otplen>[, <counter>]]]
    <serial>, <seed hex>, TOTP[, <otplen>[, <time step>]]
    <serial>, <ignored>, TAN, <tan> <tan> ...

Lines starting with ``#`` are comments. A first line ``# version: 2`` puts the user in
front: ``<login>, <resolver>, <realm>, <serial>, ...``; such a token is assigned on import.
The hash algorithm follows the seed length (64 hex digits: sha256, 128: sha512, else sha1).
"""

from __future__ import annotations

import csv
import re

from tesserad.core.tokens.base import ParameterError
from tesserad.core.tokens.importers.base import (
    ImportedToken,
    ImportOptions,
    Owner,
    ParsedFile,
    hashlib_for_seed,
    hex_seed,
    parser,
)

_VERSION = re.compile(r"#\s*version\s*:\s*(\d+)", re.IGNORECASE)
MAX_LINES = 100_000


def _number(value: str, name: str, where: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ParameterError(f"{where}: {name} must be a number") from None


def token_of(columns: list[str], where: str) -> ImportedToken:
    """The token of one line's columns (without the user columns of version 2)."""
    if len(columns) < 2 or not columns[0]:
        raise ParameterError(f"{where}: expected at least a serial and a seed")
    serial, seed = columns[0], columns[1]
    kind = (columns[2] if len(columns) > 2 and columns[2] else "hotp").lower()
    extra = columns[3:]
    if kind == "tan":
        tans = " ".join(" ".join(extra).split())
        if not tans:
            raise ParameterError(f"{where}: a TAN line needs the TANs")
        return ImportedToken(serial, "tan", {"tans": tans})
    if kind not in ("hotp", "totp"):
        raise ParameterError(f"{where}: token type {kind} cannot be imported")
    seed = hex_seed(seed, where)
    params: dict[str, object] = {"otpkey": seed, "hashlib": hashlib_for_seed(seed)}
    if len(seed) in (56, 96):
        raise ParameterError(f"{where}: sha224 and sha384 seeds are not supported")
    if extra and extra[0]:
        params["otplen"] = _number(extra[0], "otplen", where)
    counter = 0
    if len(extra) > 1 and extra[1]:
        value = _number(extra[1], "the counter" if kind == "hotp" else "the time step", where)
        if kind == "totp":
            params["timeStep"] = value
        else:
            counter = value
    return ImportedToken(serial, kind, params, counter=max(counter, 0))


@parser("oathcsv")
def parse(text: str, options: ImportOptions) -> ParsedFile:
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise ParameterError(f"the file has more than {MAX_LINES} lines")
    version = 1
    if lines and (found := _VERSION.match(lines[0].strip())):
        version = int(found.group(1))
        if version not in (1, 2):
            raise ParameterError(f"OATH CSV version {version} is not supported")
    parsed = ParsedFile()
    for number, row in enumerate(csv.reader(lines, skipinitialspace=True), start=1):
        columns = [column.strip() for column in row]
        if not any(columns) or columns[0].startswith("#"):
            continue
        where = f"line {number}"
        owner = None
        if version == 2:
            if len(columns) < 5 or not columns[0]:
                raise ParameterError(f"{where}: expected user, resolver, realm, serial and seed")
            owner = Owner(columns[0], columns[1], columns[2])
            columns = columns[3:]
        try:
            token = token_of(columns, where)
        except ParameterError as exc:
            parsed.failed[columns[0] or where] = str(exc)
            continue
        token.owner = owner
        parsed.tokens.append(token)
    return parsed
