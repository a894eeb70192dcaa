"""Writing JSON answers; the privacyIDEA envelope comes with the REST API issue."""

from __future__ import annotations

import json
from typing import Any

from twisted.web.iweb import IRequest


def json_body(request: IRequest, status: int, body: Any) -> bytes:
    """Set status and headers for a JSON answer and return the encoded body."""
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", b"application/json; charset=utf-8")
    request.setHeader(b"Cache-Control", b"no-store")
    return json.dumps(body, separators=(",", ":")).encode("utf-8")
