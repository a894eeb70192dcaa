"""PSKC (``pskc``, RFC 6030): HOTP and TOTP keys in XML, plain or encrypted.

Encrypted files use AES-CBC (``xmlenc#aes128/192/256-cbc``, the IV in front of the cipher
text) with a pre-shared key (``psk``, hex) or a key derived from ``password`` (PBKDF2,
§6.2). Each encrypted value carries an HMAC (``ValueMAC``) under the file's MAC key;
``pskcValidateMAC`` says what a wrong one does: ``check_fail_hard`` (default) refuses the
file, ``check_fail_soft`` skips the token, ``no_check`` does not look. The serial is the
device's ``SerialNo``, else the key's ``Id``, as privacyIDEA reads it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import xml.etree.ElementTree as ElementTree  # nosec B405  # parsed only by base.xml_root (no DOCTYPE, capped)
from collections.abc import Iterator

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tesserad.core.tokens.base import ParameterError
from tesserad.core.tokens.importers.base import ImportedToken, ImportOptions, ParsedFile, parser, xml_root

CBC = {f"http://www.w3.org/2001/04/xmlenc#aes{bits}-cbc": bits // 8 for bits in (128, 192, 256)}
MACS = {"http://www.w3.org/2000/09/xmldsig#hmac-sha1": "sha1",
        "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256": "sha256"}
PBKDF2 = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2"
PRFS = {"": "sha1", "http://www.w3.org/2000/09/xmldsig#hmac-sha1": "sha1",
        "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256": "sha256"}
MAX_ITERATIONS = 1_000_000


class _MacMismatch(ParameterError):
    """An encrypted value does not match its MAC."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ElementTree.Element | None, *path: str) -> ElementTree.Element | None:
    """The first descendant along ``path`` of local names (namespaces vary between tools)."""
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _children(element: ElementTree.Element, name: str) -> Iterator[ElementTree.Element]:
    return (c for c in element if _local(c.tag) == name)


def _text(element: ElementTree.Element | None, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ParameterError(f"PSKC: {what} is not base64") from None


class _Keys:
    """The file's encryption and MAC keys (None while the file is not encrypted)."""

    def __init__(self, container: ElementTree.Element, options: ImportOptions):
        self.options = options
        self.key = self._encryption_key(_child(container, "EncryptionKey"))
        method = _child(container, "MACMethod")
        self.mac_hash = MACS.get(method.get("Algorithm", "")) if method is not None else None
        self.mac_key: bytes | None = None
        if method is not None and self.key is not None:
            if self.mac_hash is None:
                raise ParameterError("PSKC: unsupported MAC algorithm")
            self.mac_key = self.decrypt(_child(method, "MACKey"), check_mac=False)

    def _encryption_key(self, element: ElementTree.Element | None) -> bytes | None:
        if element is None:
            return None
        derived = _child(element, "DerivedKey")
        if derived is not None:
            if not self.options.password:
                raise ParameterError("PSKC: the file is encrypted with a password: give parameter password")
            return _derive(derived, self.options.password)
        if not self.options.psk:
            raise ParameterError("PSKC: the file is encrypted with a pre-shared key: give parameter psk")
        try:
            key = bytes.fromhex(self.options.psk.strip())
        except ValueError:
            raise ParameterError("parameter psk must be the AES key in hex") from None
        if len(key) not in (16, 24, 32):
            raise ParameterError("parameter psk must be a 128, 192 or 256 bit AES key in hex")
        return key

    def decrypt(self, element: ElementTree.Element | None, *, check_mac: bool = True,
                mac: ElementTree.Element | None = None) -> bytes:
        """The plain bytes of an ``EncryptedValue`` (or ``MACKey``) element."""
        if element is None or self.key is None:
            raise ParameterError("PSKC: an encrypted value, but the file names no encryption key")
        algorithm = _child(element, "EncryptionMethod")
        size = CBC.get(algorithm.get("Algorithm", "") if algorithm is not None else "")
        if size is None:
            raise ParameterError("PSKC: unsupported encryption algorithm (AES-CBC is supported)")
        if size != len(self.key):
            raise ParameterError("PSKC: the key does not fit the encryption algorithm")
        data = _b64(_text(element, "CipherData", "CipherValue"), "a CipherValue")
        if len(data) < 32 or len(data) % 16:
            raise ParameterError("PSKC: a CipherValue has the wrong length")
        if check_mac and self.options.validate_mac != "no_check":
            self._check_mac(data, mac)
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(data[:16])).decryptor()
        padded = decryptor.update(data[16:]) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise ParameterError("PSKC: cannot decrypt (wrong password or pre-shared key?)") from None

    def _check_mac(self, data: bytes, mac: ElementTree.Element | None) -> None:
        if self.mac_key is None or self.mac_hash is None or mac is None:
            raise _MacMismatch("PSKC: the encrypted value has no MAC")
        expected = hmac.digest(self.mac_key, data, self.mac_hash)
        if not hmac.compare_digest(expected, _b64(mac.text or "", "a ValueMAC")):
            raise _MacMismatch("PSKC: the MAC of the encrypted value is wrong (wrong password or pre-shared key?)")


def _derive(derived: ElementTree.Element, password: str) -> bytes:
    method = _child(derived, "KeyDerivationMethod")
    if method is None or method.get("Algorithm") != PBKDF2:
        raise ParameterError("PSKC: unsupported key derivation (PBKDF2 is supported)")
    params = _child(method, "PBKDF2-params")
    try:
        salt = _b64(_text(params, "Salt", "Specified"), "the PBKDF2 salt")
        iterations = int(_text(params, "IterationCount"))
        length = int(_text(params, "KeyLength"))
    except ValueError:
        raise ParameterError("PSKC: PBKDF2 needs IterationCount and KeyLength") from None
    prf = _child(params, "PRF")
    digest = PRFS.get(prf.get("Algorithm", "") if prf is not None else "")
    if digest is None or not 0 < iterations <= MAX_ITERATIONS or length not in (16, 24, 32):
        raise ParameterError("PSKC: unsupported PBKDF2 parameters")
    return hashlib.pbkdf2_hmac(digest, password.encode("utf-8"), salt, iterations, length)


def _token(package: ElementTree.Element, keys: _Keys) -> ImportedToken:
    key = _child(package, "Key")
    if key is None:
        raise ParameterError("a KeyPackage without a Key")
    serial = _text(package, "DeviceInfo", "SerialNo") or key.get("Id", "").strip()
    if not serial:
        raise ParameterError("a key without serial number or Id")
    kind = re.split(r"[:#]", key.get("Algorithm", ""))[-1].lower()
    if kind not in ("hotp", "totp"):
        raise ParameterError(f"{serial}: token type {kind or 'unknown'} cannot be imported")
    data = _child(key, "Data")
    secret = _child(data, "Secret")
    if secret is None:
        raise ParameterError(f"{serial}: no secret")
    plain = _child(secret, "PlainValue")
    seed = (_b64(plain.text or "", "a secret") if plain is not None
            else keys.decrypt(_child(secret, "EncryptedValue"), mac=_child(secret, "ValueMAC")))
    suite = _text(key, "AlgorithmParameters", "Suite").lower()
    params: dict[str, object] = {"otpkey": seed.hex(),
                                 "hashlib": next((h for h in ("sha256", "sha512") if h in suite), "sha1")}
    response = _child(key, "AlgorithmParameters", "ResponseFormat")
    if response is not None and response.get("Length"):
        params["otplen"] = response.get("Length")
    manufacturer = _text(package, "DeviceInfo", "Manufacturer")
    if manufacturer:
        params["description"] = manufacturer[:255]
    step = _text(data, "TimeInterval", "PlainValue")
    if kind == "totp" and step:
        params["timeStep"] = step
    counter = _text(data, "Counter", "PlainValue")
    try:
        count = int(counter) if counter else 0
    except ValueError:
        raise ParameterError(f"{serial}: the counter is not a number") from None
    return ImportedToken(serial, kind, params, counter=max(count, 0))


@parser("pskc")
def parse(text: str, options: ImportOptions) -> ParsedFile:
    container = xml_root(text, "PSKC")
    if _local(container.tag) != "KeyContainer":
        raise ParameterError("PSKC: the document is not a KeyContainer")
    keys = _Keys(container, options)
    parsed = ParsedFile()
    for number, package in enumerate(_children(container, "KeyPackage"), start=1):
        try:
            parsed.tokens.append(_token(package, keys))
        except _MacMismatch as exc:
            if options.validate_mac == "check_fail_hard":
                raise
            parsed.failed[f"key package {number}"] = str(exc)
        except ParameterError as exc:
            parsed.failed[f"key package {number}"] = str(exc)
    return parsed
