"""``POST /token/load/<filename>`` and ``GET /token/getserial/<otp>``: seed files of every
format become working tokens (checked with RFC 4226 values), encrypted PSKC files need the
right key and MAC, and a refused file or right changes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import select

from tesserad.core.auth.request import Outcome
from tesserad.core.store.models import AuditEntry
from tesserad.core.tokens.importers.loader import BATCH_SIZE

from tests.http.restapi import Api
from tests.http.test_token_api import error, ok, row
from tests.http.test_token_realms import state
from tests.wired import RFC4226, RFC_SEED_HEX

DATA = Path(__file__).parent / "data"
RFC_PSK = "12345678901234567890123456789012"
EIGHT_DIGITS = ["84755224", "94287082"]  # RFC 4226 appendix D, truncated to 8 digits


def upload(kind: str, content: str, **params: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers of an upload as the web UI sends it: multipart/form-data with
    the file part ``file``."""
    boundary = "tesseraBoundary7"
    parts = [(name, value, None) for name, value in {"type": kind, **params}.items()]
    parts.append(("file", content, "tokens.dat"))
    body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                   + (f'; filename="{filename}"\r\nContent-Type: application/octet-stream' if filename else "")
                   + f"\r\n\r\n{value}\r\n" for name, value, filename in parts) + f"--{boundary}--\r\n"
    return body.encode(), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def load(api: Api, kind: str, content: str, token: str | None = None, **params: str) -> tuple[int, Any]:
    body, headers = upload(kind, content, **params)
    return api.call("POST", "/token/load/tokens.dat", token or api.admin(), raw=body, headers=headers)


def accepts(api: Api, serial: str, otp: str) -> bool:
    return api.core.check(otp, user=None, serial=serial).outcome is Outcome.ACCEPT


def test_oath_csv_hotp_totp_and_tan_lines(api: Api) -> None:
    content = (f"# serial, seed, type, otplen, counter or time step\n"
               f"H1, {RFC_SEED_HEX}\n"
               f"H2, {RFC_SEED_HEX}, hotp, 6, 3\n"
               f"T1, {RFC_SEED_HEX}, TOTP, 8, 60\n"
               f"S2, {'ab' * 32}, HOTP\n"
               f"TAN1, n/a, TAN, 111111 222222\n"
               f"BAD, 12xz\n"
               f"O1, {RFC_SEED_HEX}, OCRA, OCRA-1:HOTP-SHA1-6:QN08\n")
    status, body = load(api, "oathcsv", content, tokenrealms="example")
    assert (status, body["result"]["value"]) == (200, {"n_imported": 5, "n_not_imported": 2})
    assert body["detail"]["not_imported"] == {"BAD": "line 7: the seed is not hexadecimal",
                                              "O1": "line 8: token type ocra cannot be imported"}
    assert accepts(api, "H1", RFC4226[0]) and not accepts(api, "H2", RFC4226[2]) and accepts(api, "H2", RFC4226[3])
    t1 = row(api, "T1")
    assert t1 is not None and (t1.tokentype, t1.otplen) == ("totp", 8)
    assert api.core.token_info("T1", "timeStep") == "60" and api.core.token_info("S2", "hashlib") == "sha256"
    assert accepts(api, "TAN1", "222222")
    listed = ok(api.call("GET", "/token/", api.admin(), {"tokenrealm": "example"}))
    assert listed["count"] == 5 and all(t["realms"] == ["example"] for t in listed["tokens"])


def test_oath_csv_version_2_assigns_and_refuses_unknown_users(api: Api) -> None:
    content = f"# version: 2\nalice, files, example, U1, {RFC_SEED_HEX}, hotp, 6\n"
    assert ok(load(api, "oathcsv", content)) == {"n_imported": 1, "n_not_imported": 0}
    assert accepts(api, "U1", RFC4226[0])
    assert ok(api.call("GET", "/token/", api.admin(), {"user": "alice"}))["tokens"][0]["serial"] == "U1"
    before = state(api)
    bad = f"# version: 2\nalice, files, example, U2, {RFC_SEED_HEX}\nnobody, files, example, U3, {RFC_SEED_HEX}\n"
    assert error(load(api, "oathcsv", bad)) == (400, 904)
    assert state(api) == before


def test_a_reimported_serial_is_initialized_anew(api: Api) -> None:
    load(api, "oathcsv", f"R1, {'00' * 20}")
    assert ok(load(api, "oathcsv", f"R1, {RFC_SEED_HEX}, hotp, 6, 1")) == {"n_imported": 1, "n_not_imported": 0}
    assert accepts(api, "R1", RFC4226[1])


# A database that refuses one token of the second batch (a constraint it breaks, say).
REFUSE_S0300 = {
    "sqlite": ["CREATE TRIGGER refuse BEFORE INSERT ON token WHEN NEW.serial = 'S0300' "
               "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"],
    "postgresql": ["CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF NEW.serial = 'S0300' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$",
                   "CREATE TRIGGER refuse BEFORE INSERT ON token FOR EACH ROW EXECUTE FUNCTION refuse()"],
}


def test_a_large_file_goes_in_batches_and_a_failed_batch_stops_the_import(api: Api) -> None:
    content = "".join(f"S{number:04d}, {RFC_SEED_HEX}\n" for number in range(2 * BATCH_SIZE + 100))
    engine = api.core.database.engine
    with engine.begin() as conn:
        for statement in REFUSE_S0300[engine.dialect.name]:
            conn.exec_driver_sql(statement)
    status, body = load(api, "oathcsv", content)
    assert (status, body["result"]["error"]["code"]) == (503, 903), body
    stopped = (f"token import stopped after {BATCH_SIZE} of {2 * BATCH_SIZE + 100} tokens, which stay imported "
               "(load the file again for the rest): refused by the test")
    assert body["result"]["error"]["message"].startswith(f"ERR903: {stopped}")  # PostgreSQL adds a CONTEXT
    assert [row[1] for row in state(api)] == [f"S{number:04d}" for number in range(BATCH_SIZE)]
    with api.core.database.session() as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "POST /token/load/<filename>")).one()
        assert not audited.success and audited.info.startswith(stopped)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER refuse" + (" ON token" if engine.dialect.name == "postgresql" else ""))
    assert ok(load(api, "oathcsv", content)) == {"n_imported": 2 * BATCH_SIZE + 100, "n_not_imported": 0}
    assert accepts(api, "S0300", RFC4226[0]) and len(state(api)) == 2 * BATCH_SIZE + 100


@pytest.mark.parametrize(("name", "params"), [("rfc6030-psk.xml", {"psk": RFC_PSK}),
                                              ("rfc6030-password.xml", {"password": "qwerty"})])
def test_encrypted_pskc_of_rfc_6030(api: Api, name: str, params: dict[str, str]) -> None:
    content = (DATA / name).read_text()
    assert ok(load(api, "pskc", content, **params)) == {"n_imported": 1, "n_not_imported": 0}
    token = row(api, "987654321")
    assert token is not None and (token.tokentype, token.otplen) == ("hotp", 8)
    assert accepts(api, "987654321", EIGHT_DIGITS[0])


def refused(api: Api, cases: list[tuple[str, str, dict[str, str], str]]) -> None:
    """Each (type, file, params, message) is a 905 naming the problem, and nothing is stored."""
    for kind, content, params, message in cases:
        status, body = load(api, kind, content, **params)
        assert (status, body["result"]["error"]["code"]) == (400, 905), (message, body)
        assert message in body["result"]["error"]["message"], body
    assert state(api) == []


def test_pskc_without_the_right_key_imports_nothing(api: Api) -> None:
    psk, password = (DATA / "rfc6030-psk.xml").read_text(), (DATA / "rfc6030-password.xml").read_text()
    refused(api, [("pskc", psk, {}, "give parameter psk"),
                  ("pskc", password, {}, "give parameter password"),
                  ("pskc", password, {"password": "wrong"}, "cannot decrypt"),
                  ("pskc", psk, {"psk": "12" * 16}, "cannot decrypt"),
                  ("pskc", psk, {"psk": "xyz"}, "psk must be the AES key in hex")])


def _encrypt(key: bytes, plain: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()


def _pskc_package(serial: str, seed: bytes, key: bytes, mac_key: bytes, *, good_mac: bool) -> str:
    value = _encrypt(key, seed)
    mac = hmac.digest(mac_key if good_mac else b"x" * 20, value, hashlib.sha1)
    return (f'<KeyPackage><DeviceInfo><SerialNo>{serial}</SerialNo></DeviceInfo>'
            f'<Key Id="k{serial}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">'
            f'<AlgorithmParameters><Suite>HMAC-SHA256</Suite><ResponseFormat Length="6"/></AlgorithmParameters>'
            f'<Data><Secret><EncryptedValue><xenc:EncryptionMethod Algorithm="{CBC128}"/><xenc:CipherData>'
            f'<xenc:CipherValue>{base64.b64encode(value).decode()}</xenc:CipherValue></xenc:CipherData>'
            f'</EncryptedValue><ValueMAC>{base64.b64encode(mac).decode()}</ValueMAC></Secret>'
            f'<TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data></Key></KeyPackage>')


CBC128 = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"


def _pskc_file(packages: list[tuple[str, bool]]) -> str:
    key, mac_key = bytes.fromhex(RFC_PSK), os.urandom(20)
    body = "".join(_pskc_package(serial, os.urandom(32), key, mac_key, good_mac=good) for serial, good in packages)
    return ('<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc" '
            'xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"><EncryptionKey/>'
            '<MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"><MACKey>'
            f'<xenc:EncryptionMethod Algorithm="{CBC128}"/><xenc:CipherData><xenc:CipherValue>'
            f'{base64.b64encode(_encrypt(key, mac_key)).decode()}</xenc:CipherValue></xenc:CipherData>'
            f'</MACKey></MACMethod>{body}</KeyContainer>')


def test_pskc_mac_checks(api: Api) -> None:
    content = _pskc_file([("P1", True), ("P2", False)])
    assert error(load(api, "pskc", content, psk=RFC_PSK)) == (400, 905)  # check_fail_hard by default
    assert state(api) == []
    status, body = load(api, "pskc", content, psk=RFC_PSK, pskcValidateMAC="check_fail_soft")
    assert body["result"]["value"] == {"n_imported": 1, "n_not_imported": 1}
    assert "MAC" in body["detail"]["not_imported"]["key package 2"]
    token = row(api, "P1")
    assert token is not None and (token.tokentype, token.otplen) == ("totp", 6)
    assert api.core.token_info("P1", "hashlib") == "sha256"
    assert ok(load(api, "pskc", content, psk=RFC_PSK, pskcValidateMAC="no_check"))["n_imported"] == 2
    assert error(load(api, "pskc", content, psk=RFC_PSK, pskcValidateMAC="sometimes")) == (400, 905)


def test_plain_pskc_yubikey_csv_and_aladdin_xml(api: Api) -> None:
    seed = base64.b64encode(bytes.fromhex(RFC_SEED_HEX)).decode()
    pskc = ('<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage>'
            '<Key Id="PLAIN1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Data><Secret>'
            f'<PlainValue>{seed}</PlainValue></Secret><Counter><PlainValue>2</PlainValue></Counter></Data></Key>'
            '</KeyPackage></KeyContainer>')
    assert ok(load(api, "pskc", pskc))["n_imported"] == 1 and accepts(api, "PLAIN1", RFC4226[2])
    yubico = ("Yubico OTP,12/11/2013 11:10,1,vvgutbiedkvi,ab86c04de6a3,d26a7c0f85fdda28bd816e406342b214,,,0,0,0,0\n"
              f"OATH-HOTP,11.12.13 18:55,2,cccccccccccb,,{RFC_SEED_HEX},,,0,0,0,6,0\n"
              "Static Password,11.12.13 18:55,1,,,aaaa,,,0\n")
    status, body = load(api, "yubikeycsv", yubico)
    assert body["result"]["value"] == {"n_imported": 2, "n_not_imported": 1}, body
    listed = {t["serial"]: t for t in ok(api.call("GET", "/token/", api.admin(), {"serial": "UB*"}))["tokens"]}
    # the serial is the public id as a number: modhex vvgutbiedkvi = 0xff5ed17329f7
    assert set(listed) == {f"UBAM{0xff5ed17329f7}_1", "UBOM00000001_2"}, listed
    assert api.core.token_info(f"UBAM{0xff5ed17329f7}_1", "yubikey.prefix") == "vvgutbiedkvi"
    assert accepts(api, "UBOM00000001_2", RFC4226[0])
    aladdin = ('<Tokens><Token serial="ALADDIN1"><Applications><Application ConnectorID="x">'
               f'<Seed>{RFC_SEED_HEX}</Seed><MovingFactor>1</MovingFactor></Application></Applications>'
               '</Token></Tokens>')
    assert ok(load(api, "aladdin-xml", aladdin))["n_imported"] == 1 and accepts(api, "ALADDIN1", RFC4226[1])


def test_unreadable_files_are_refused_whole(api: Api) -> None:
    refused(api, [("csv", "A, 00", {}, "parameter type must be one of"),
                  ("pskc", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><KeyContainer/>', {}, "DOCTYPE"),
                  ("pskc", "<KeyContainer>", {}, "not well-formed"),
                  ("aladdin-xml", "<Tokens", {}, "not well-formed"),
                  ("oathcsv", "# version: 3\nA, 00", {}, "version 3")])


def test_import_rights_and_realms(api: Api) -> None:
    api.policy("helpdesk", scope="admin", action="importtokens, tokenlist", adminuser="helpdesk", realm="example")
    helpdesk = api.admin("helpdesk")
    assert error(load(api, "oathcsv", f"X1, {RFC_SEED_HEX}", helpdesk)) == (403, 303)  # into no realm
    assert error(load(api, "oathcsv", f"X1, {RFC_SEED_HEX}", helpdesk, tokenrealms="nowhere")) == (400, 905)
    assert state(api) == []
    assert ok(load(api, "oathcsv", f"X1, {RFC_SEED_HEX}", helpdesk, tokenrealms="example"))["n_imported"] == 1
    assert error(load(api, "oathcsv", f"X2, {RFC_SEED_HEX}", api.user("alice"))) == (401, 4306)


def test_getserial(api: Api) -> None:
    load(api, "oathcsv", f"G1, {'00' * 20}\nG2, {RFC_SEED_HEX}\nG3, {RFC_SEED_HEX}, totp")
    admin = api.admin()
    assert ok(api.call("GET", f"/token/getserial/{RFC4226[4]}", admin)) == {"serial": "G2", "count": 3}
    assert ok(api.call("GET", f"/token/getserial/{RFC4226[4]}", admin, {"assigned": "1"}))["serial"] is None
    assert ok(api.call("GET", "/token/getserial/000000", admin, {"count": "1", "type": "hotp"})) == {
        "serial": None, "count": 2}
    assert accepts(api, "G2", RFC4226[4])  # getserial consumed nothing
    api.policy("other", scope="admin", action="tokenlist", adminuser="admin")
    assert error(api.call("GET", f"/token/getserial/{RFC4226[4]}", admin)) == (403, 303)
