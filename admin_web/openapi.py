"""``GET /openapi.json``: the REST API described from the routing declarations themselves
(``rest.endpoint``), so the document cannot drift from what is served."""

from __future__ import annotations

import json
import re
from typing import Any

from tesserad import __version__
from tesserad.admin_web.rest import PUBLIC, Body, Call, Endpoint, Resource, endpoint

_PARAMETER = re.compile(r"<(?:[a-z]+:)?([A-Za-z_]+)>")


def document(endpoints: list[Endpoint]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for declared in endpoints:
        path = _PARAMETER.sub(r"{\1}", declared.path)
        operation: dict[str, Any] = {
            "summary": declared.summary, "tags": [path.strip("/").split("/")[0]],
            "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                           for name in _PARAMETER.findall(declared.path)],
            "responses": {"200": {"description": "the privacyIDEA JSON envelope"},
                          "400": {"description": "a parameter error (905) or another error object"}}}
        if declared.roles:
            operation["security"] = [{"jwt": []}]
            operation["x-roles"] = sorted(declared.roles)
            operation["responses"]["401"] = {"description": "missing, expired or invalid JWT, or the wrong role"}
            operation["responses"]["403"] = {"description": "the caller's policies do not grant it (303)"}
        paths.setdefault(path, {})[declared.method.lower()] = operation
    return {"openapi": "3.0.3", "info": {"title": "tesserad REST API (privacyIDEA 3.8 compatible)",
                                         "version": __version__},
            "components": {"securitySchemes": {"jwt": {"type": "apiKey", "in": "header", "name": "Authorization",
                                                       "description": "the token from POST /auth"}}},
            "paths": dict(sorted(paths.items()))}


class OpenApiResource(Resource):
    @endpoint("GET", "/openapi.json", roles=PUBLIC, audit=False)
    def openapi(self, call: Call) -> Body:
        """This document (an OpenAPI 3 description of every REST endpoint), without the envelope."""
        return Body(json.dumps(document(call.rest.endpoints), indent=1), "application/json")
