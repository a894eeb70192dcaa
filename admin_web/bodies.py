"""Request parameters from a query string, a form, a JSON or a multipart body, with bounded work.

A body is decoded in the core thread pool (``api.RawInput``), but a decoder holds the GIL
and a flood of bodies fills the pool, so each decoder's cost must stay small for the worst
input the limits admit (one MiB of tiny parts, of brackets, of percent escapes: a few
milliseconds each, see tests/http/test_body_costs.py). The same limits hold for
every encoding: at most MAX_FIELDS parameters, names of at most MAX_NAME characters, the
whole body at most MAX_BODY bytes; JSON adds MAX_JSON_VALUES and MAX_JSON_DEPTH, checked
on the raw text before the parser (which recurses) sees it. Anything else is a
ParameterError (905, 400) that says which limit or rule the input broke.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

import multipart

from tesserad.core.tokens.base import ParameterError

MAX_BODY = 1024 * 1024
MAX_FIELDS = 200
MAX_NAME = 256
MAX_JSON_VALUES = 10_000
MAX_JSON_DEPTH = 20
# Up to this many '%' a value is decoded by urllib, which keeps a '%' that starts no
# escape (clients that do not encode at all send a few); more are decoded in C and must
# all be %XX escapes.
FEW_ESCAPES = 64
MAX_PART_HEADERS = 8

_JSON_STRING = re.compile(rb'"[^"]*"')
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class RequestTooLarge(ParameterError):
    """The request body exceeds MAX_BODY."""


def decode(content_type: bytes, query: bytes, body: bytes) -> dict[str, Any]:
    """The parameters of a request: the query string's first, then the body's; the first
    value wins for repeated names. JSON values keep their type, all others are text."""
    values: dict[str, Any] = {}
    _merge(values, form_pairs(query))
    kind = content_type.split(b";")[0].strip().lower()
    if body and kind == b"application/json":
        _merge(values, json_object(body).items())
    elif body and kind in (b"application/x-www-form-urlencoded", b""):
        _merge(values, form_pairs(body))
    elif body and kind == b"multipart/form-data":
        _merge(values, multipart_fields(content_type, body))
    return values


def _merge(values: dict[str, Any], pairs: Any) -> None:
    for key, value in pairs:
        if len(key) > MAX_NAME:
            raise ParameterError(f"a parameter name is longer than {MAX_NAME} characters")
        values.setdefault(key, value)


def form_pairs(raw: bytes) -> list[tuple[str, str]]:
    """``a=1&b=2`` (a query string or an urlencoded form), as ``parse_qsl`` reads it with
    blank values kept; the escapes are decoded in C, not per escape in Python."""
    if raw.count(b"&") >= MAX_FIELDS:
        raise ParameterError(f"more than {MAX_FIELDS} parameters")
    pairs = []
    for piece in filter(None, raw.split(b"&")):
        name, _, value = piece.partition(b"=")
        pairs.append((_text(_unquote(name), "parameter names"), _text(_unquote(value), "parameter values")))
    return pairs


def _unquote(raw: bytes) -> bytes:
    raw = raw.replace(b"+", b" ")
    if raw.count(b"%") <= FEW_ESCAPES:
        return unquote_to_bytes(raw)
    try:
        return codecs.escape_decode(raw.replace(b"\\", b"\\\\").replace(b"%", b"\\x"))[0]  # type: ignore[attr-defined]
    except ValueError:  # a '%' that starts no %XX escape
        raise ParameterError("the parameters hold malformed percent escapes") from None


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParameterError(f"{what} must be UTF-8 text") from None


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object body, refused before parsing when it holds more than MAX_JSON_VALUES
    values or nests deeper than MAX_JSON_DEPTH; strings must be valid Unicode."""
    _check_json_shape(raw)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ParameterError(f"the body is not valid UTF-8 JSON: no UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ParameterError(f"the body is not valid UTF-8 JSON: {exc.msg} at position {exc.pos}") from None
    except ValueError:  # an integer beyond Python's digit limit
        raise ParameterError("the JSON body holds a number with too many digits") from None
    if not isinstance(data, dict):
        raise ParameterError("the JSON body must be an object")
    if len(data) > MAX_FIELDS:
        raise ParameterError(f"more than {MAX_FIELDS} parameters")
    if _SURROGATE_ESCAPE.search(raw):
        _check_unicode(data)
    return data


def _check_json_shape(raw: bytes) -> None:
    """Count values and nesting on the text outside strings: C-speed byte operations only,
    and the string-stripping regex runs only when there are few strings."""
    plain = raw.replace(b"\\\\", b"").replace(b'\\"', b"")  # escapes never end a string
    if plain.count(b'"') > 2 * MAX_JSON_VALUES:
        raise ParameterError(f"the JSON body holds more than {MAX_JSON_VALUES} values")
    outside = _JSON_STRING.sub(b"", plain)
    containers = outside.count(b"[") + outside.count(b"{")
    if containers + outside.count(b",") > MAX_JSON_VALUES:
        raise ParameterError(f"the JSON body holds more than {MAX_JSON_VALUES} values")
    if containers > MAX_JSON_DEPTH and _depth(outside.translate(_BRACKETS, _NOT_BRACKETS)) > MAX_JSON_DEPTH:
        raise ParameterError(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")


def _depth(brackets: bytes) -> int:
    """The nesting of a string of ``[`` and ``]``: each pass removes the innermost pairs.
    More than MAX_JSON_DEPTH when unbalanced (the JSON parser then names the error)."""
    for level in range(MAX_JSON_DEPTH + 1):
        if not brackets:
            return level
        inner = brackets.replace(b"[]", b"")
        if inner == brackets:
            break
        brackets = inner
    return MAX_JSON_DEPTH + 1


def _check_unicode(data: dict[str, Any]) -> None:
    """JSON may escape half of a surrogate pair (``"\\ud800"``): valid JSON, but no text
    that can be stored or compared. Only bodies with such an escape are checked."""
    for key, value in data.items():
        try:
            json.dumps([key, value], ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            name = key.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            raise ParameterError(f"parameter {name[:MAX_NAME]} is not valid Unicode text (a lone surrogate)") from None


def multipart_fields(content_type: bytes, body: bytes) -> list[tuple[str, str]]:
    """The named parts of a multipart/form-data body (form fields and uploaded files) as
    text. The streaming parser stops at the first part beyond MAX_FIELDS."""
    _, options = multipart.parse_options_header(content_type.decode("latin-1"))
    boundary = options.get("boundary")
    if not boundary:
        raise ParameterError("the multipart/form-data body has no boundary")
    fields: list[tuple[str, str]] = []
    parts = 0
    name: str | None = None
    chunks: list[bytes] = []
    try:
        with multipart.PushMultipartParser(boundary, len(body), max_header_count=MAX_PART_HEADERS,
                                           max_segment_count=MAX_FIELDS, strict=True) as parser:
            for event in parser.parse(body):
                if isinstance(event, multipart.MultipartSegment):
                    parts, name, chunks = parts + 1, event.name, []
                elif event is not None:
                    chunks.append(event)
                elif name:
                    fields.append((name, _text(b"".join(chunks), f"parameter {name[:MAX_NAME]}")))
    except multipart.MultipartError as exc:
        if isinstance(exc, multipart.ParserLimitReached) and parts == MAX_FIELDS:
            raise ParameterError(f"more than {MAX_FIELDS} parameters") from None
        reason = exc.args[0] if exc.args and isinstance(exc.args[0], str) else type(exc).__name__
        raise ParameterError(f"the multipart/form-data body is malformed: {reason}") from None
    return fields

