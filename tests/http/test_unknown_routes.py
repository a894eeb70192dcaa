"""Unknown paths and methods get privacyIDEA-style JSON errors, not HTML pages."""

from __future__ import annotations

import pytest

from tests.http.restapi import Api


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/no/such/thing", 404),
    ("GET", "/validate/nosuch", 404),
    ("DELETE", "/validate/check", 405),
])
def test_unknown_route_is_a_json_error(api: Api, method: str, path: str, status: int) -> None:
    code, body = api.call(method, path)
    assert code == status
    assert body["result"]["status"] is False
    assert body["result"]["error"]["code"] == status
    assert path in body["result"]["error"]["message"]
