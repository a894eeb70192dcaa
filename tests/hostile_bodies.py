"""The worst request bodies the HTTP limits admit, for the flood test and bench/hostile_input.py.

Bodies are decoded on the reactor thread, so the question for each encoding is what one
MAX_BODY-sized body costs there: the most multipart parts, the deepest JSON, the most form
fields, and a few more shapes that broke parsers elsewhere. Each builder returns the
Content-Type and a body of exactly ``size`` bytes (MAX_BODY unless told otherwise).
"""

from __future__ import annotations

from collections.abc import Callable

from tesserad.admin_web.api import MAX_BODY

Body = tuple[str, bytes]
BOUNDARY = "b"


def _exactly(head: bytes, unit: bytes, tail: bytes, size: int, pad: bytes = b"1") -> bytes:
    """``head + unit * n + padding + tail`` of exactly ``size`` bytes: as many units as fit."""
    count, rest = divmod(size - len(head) - len(tail), len(unit))
    return head + unit * count + pad * rest + tail


def multipart_parts(size: int = MAX_BODY) -> Body:
    """Form-data parts with one-letter names and empty values: 20,560 in one MiB."""
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\n'.encode()
    body = _exactly(b"", part + b"\r\n", f"\r\n--{BOUNDARY}--\r\n".encode(), size, pad=b"\n")
    return f"multipart/form-data; boundary={BOUNDARY}", body


def json_depth(size: int = MAX_BODY) -> Body:
    """An object whose one value is nested arrays half a million deep."""
    depth = (size - len(b'{"user":}')) // 2
    return "application/json", (b'{"user":' + b"[" * depth + b"]" * depth + b"}").ljust(size)


def form_fields(size: int = MAX_BODY) -> Body:
    """``a&a&...``: half a million empty fields."""
    return "application/x-www-form-urlencoded", _exactly(b"", b"a&", b"a", size, pad=b"a")


def json_number(size: int = MAX_BODY) -> Body:
    """One integer of a million digits (Python refuses to convert more than 4,300)."""
    return "application/json", _exactly(b'{"user":', b"1", b"}", size)


def lone_surrogates(size: int = MAX_BODY) -> Body:
    """A JSON string of escaped lone surrogates, which no UTF-8 encoder accepts."""
    return "application/json", _exactly(b'{"user":"', b"\\udc80", b'"}', size, pad=b" ")


def percent_escapes(size: int = MAX_BODY) -> Body:
    """One form value of a third of a million percent escapes."""
    return "application/x-www-form-urlencoded", _exactly(b"user=", b"%41", b"", size, pad=b"A")


def oversized(size: int = MAX_BODY) -> Body:
    """One byte more than the limit admits."""
    return "application/x-www-form-urlencoded", _exactly(b"user=", b"A", b"", size + 1)


HOSTILE: dict[str, Callable[..., Body]] = {
    "multipart max parts": multipart_parts,
    "deepest JSON": json_depth,
    "max form fields": form_fields,
    "big JSON number": json_number,
    "lone surrogates": lone_surrogates,
    "percent escapes": percent_escapes,
    "oversized body": oversized,
}
