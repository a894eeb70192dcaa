"""Yubikey CSV (``yubikeycsv``): the log of the Yubikey Personalization tool.

``Yubico OTP`` lines become ``yubikey`` tokens ``UBAM<serial>_<slot>`` (AES key, public
and private id), ``OATH-HOTP`` lines ``hotp`` tokens ``UBOM<serial>_<slot>`` (sha1, 6
digits); the serial is the public id read as a number, as privacyIDEA names them. The
Yubico format (first column the key's serial number) is read too. Other lines (static
passwords, challenge-response) are listed as not imported.
"""

from __future__ import annotations

import csv

from tesserad.core.tokens.base import ParameterError
from tesserad.core.tokens.importers.base import ImportedToken, ImportOptions, ParsedFile, hex_seed, parser
from tesserad.core.tokens.yubikey import modhex_decode

MAX_LINES = 100_000


def _serial_number(public_id: str, where: str) -> int:
    try:
        return int.from_bytes(modhex_decode(public_id.lower()), "big")
    except ValueError:
        raise ParameterError(f"{where}: the public id is not modhex") from None


def _token(kind: str, number: str, slot: str, public_id: str, key: str, private_id: str,
           where: str) -> ImportedToken:
    if kind == "yubico otp":
        params = {"otpkey": hex_seed(key, where), "description": public_id}
        if public_id:
            params["yubikey.prefix"] = public_id.lower()
        if private_id:
            params["yubikey.tokenid"] = hex_seed(private_id, where)
        return ImportedToken(f"UBAM{number}_{slot}", "yubikey", params)
    if kind == "oath-hotp":
        return ImportedToken(f"UBOM{number}_{slot}", "hotp",
                             {"otpkey": hex_seed(key, where), "otplen": 6, "hashlib": "sha1",
                              "description": public_id})
    raise ParameterError(f"{where}: {kind or 'this'} configuration cannot be imported")


def _line(columns: list[str], where: str) -> ImportedToken:
    if len(columns) < 4:
        raise ParameterError(f"{where}: too few columns")
    first = columns[0].lower()
    if first.isdigit():  # Yubico format: serial, public id, (empty: Yubico OTP | 0: OATH-HOTP), key, ...
        kind = {"": "yubico otp", "0": "oath-hotp"}.get(columns[2], columns[2])
        private_id = columns[4] if len(columns) > 4 and kind == "yubico otp" else ""
        return _token(kind, columns[0], "X", columns[1], columns[3], private_id, where)
    if len(columns) < 6:
        raise ParameterError(f"{where}: too few columns")
    public_id = columns[3]
    if not public_id:
        raise ParameterError(f"{where}: no public id")
    number = f"{_serial_number(public_id, where):08d}"
    return _token(first, number, columns[2], public_id, columns[5], columns[4], where)


@parser("yubikeycsv")
def parse(text: str, options: ImportOptions) -> ParsedFile:
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise ParameterError(f"the file has more than {MAX_LINES} lines")
    parsed = ParsedFile()
    for number, row in enumerate(csv.reader(lines), start=1):
        columns = [column.strip() for column in row]
        if not any(columns) or columns[0].startswith("#"):
            continue
        where = f"line {number}"
        try:
            parsed.tokens.append(_line(columns, where))
        except ParameterError as exc:
            parsed.failed[where] = str(exc)
    return parsed
