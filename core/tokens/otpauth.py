"""Enrollment URIs (``otpauth://`` as Google Authenticator reads it) and their QR images."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from urllib.parse import quote, urlencode

import segno

# Authenticator apps show at most this much of the label well; privacyIDEA truncates too.
MAX_LABEL = 64


def otpauth_uri(kind: str, key: bytes, label: str, issuer: str, *, digits: int, hashlib_name: str,
                counter: int | None = None, period: int | None = None,
                extra: Mapping[str, str | int] | None = None) -> str:
    """``extra``: the further parameters the privacyIDEA Authenticator reads (``image``, ``pin``,
    ``2step_*``), after the standard ones."""
    params: dict[str, str | int] = {"secret": base64.b32encode(key).decode().rstrip("=")}
    if counter is not None:
        params["counter"] = counter
    if period is not None:
        params["period"] = period
    params["digits"] = digits
    if hashlib_name != "sha1":
        params["algorithm"] = hashlib_name.upper()
    params["issuer"] = issuer
    params.update(extra or {})
    path = quote(f"{issuer}:{label[:MAX_LABEL]}", safe=":@")
    return f"otpauth://{kind}/{path}?{urlencode(params, quote_via=quote)}"


def qr_data_uri(text: str) -> str:
    """A PNG QR code as a data: URI, rendered locally (no network)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=4, border=2)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def googleurl_detail(uri: str, *, image: bool = True) -> dict[str, str]:
    """The ``detail.googleurl`` object of a /token/init response (``image``: with the QR code)."""
    detail = {"description": "URL for google Authenticator", "value": uri}
    if image:
        detail["img"] = qr_data_uri(uri)
    return detail
