"""GET /openapi.json describes exactly the endpoints the site routes."""

from __future__ import annotations

import re

from tests.http.restapi import Api


def test_the_document_lists_every_mounted_endpoint(api: Api) -> None:
    status, document = api.call("GET", "/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations == {(e.method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", e.path)) for e in api.rest.endpoints}
    delete = document["paths"]["/token/{serial}"]["delete"]
    assert delete["parameters"] == [{"name": "serial", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert delete["x-roles"] == ["admin", "user"] and delete["summary"].startswith("Delete a token")
    assert "security" not in document["paths"]["/auth"]["post"]
