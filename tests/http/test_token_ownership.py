"""A token belongs to its owner in the owner's realm: a resolver shared with another realm
does not make the same store entry its owner there (security issue 27)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.http.restapi import Api
from tests.wired import RFC4226, RFC_SEED_HEX

PIN = "1234"


@pytest.fixture
def shared(api: Api, tmp_path: Path) -> tuple[Api, str]:
    """Realm ``b`` over resolver ``resb`` (bob); realm ``a`` over ``files`` and ``resb``; an
    HOTP token enrolled for bob@a."""
    passwd = tmp_path / "b-passwd"
    passwd.write_text("bob:x:4001:4001:Bob of B,,,:/home/bob:/bin/sh\n")
    core = api.core
    with core.database.session() as session:
        core.directory.save_resolver(session, "resb", "passwdresolver", {"fileName": str(passwd)})
        core.directory.save_realm(session, "b", [("resb", 1)])
        core.directory.save_realm(session, "a", [("resb", 1), ("files", 2)])
        session.commit()
    status, body = api.call("POST", "/token/init", api.admin(), {
        "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": PIN, "user": "bob", "realm": "a", "serial": "BOBA"})
    assert status == 200, body
    return api, "BOBA"


def check(api: Api, **params: str) -> dict[str, object]:
    status, body = api.call("POST", "/validate/check", params=params)
    assert status in (200, 400), body
    return body


def test_the_token_of_bob_at_a_does_not_log_in_bob_at_b(shared: tuple[Api, str]) -> None:
    api, _ = shared
    refused = check(api, user="bob", realm="b", **{"pass": PIN + RFC4226[0]})
    assert refused["result"]["value"] is False
    assert refused["detail"]["message"] == "The user has no tokens assigned"
    accepted = check(api, user="bob", realm="a", **{"pass": PIN + RFC4226[0]})
    assert accepted["result"]["value"] is True  # the value was not used up by the refusal


def test_the_serial_of_bob_at_a_is_not_bob_at_b(shared: tuple[Api, str]) -> None:
    api, serial = shared
    body = check(api, user="bob", realm="b", serial=serial, **{"pass": PIN + RFC4226[0]})
    assert body["result"]["status"] is False
    assert "does not belong" in body["result"]["error"]["message"]


def test_bob_at_b_neither_lists_nor_touches_the_token_of_bob_at_a(shared: tuple[Api, str]) -> None:
    api, serial = shared
    bob_b, bob_a = api.user("bob", "b"), api.user("bob", "a")
    assert api.call("GET", "/token/", bob_b)[1]["result"]["value"]["tokens"] == []
    assert [t["serial"] for t in api.call("GET", "/token/", bob_a)[1]["result"]["value"]["tokens"]] == [serial]
    status, _ = api.call("POST", f"/token/disable/{serial}", bob_b)
    assert status != 200
    assert api.call("POST", f"/token/disable/{serial}", bob_a)[0] == 200
