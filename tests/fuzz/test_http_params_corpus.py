"""The HTTP parameter layer against its seed corpus and generated input: every input is
decoded or refused with a ParameterError (never another exception), quickly, and what is
decoded is storable text.

A corpus file (``corpus/http_params/*``) is a Content-Type line, a query-string line, then
the body as it came over the wire; the seeds are the hostile inputs of issue 26, kept
small (the 1 MiB worst cases are built in tests/http/test_body_costs.py).
"""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tesserad.admin_web import bodies
from tesserad.admin_web.api import RawInput
from tesserad.core.tokens.base import ParameterError

CORPUS = Path(__file__).parent / "corpus" / "http_params"
SEEDS = sorted(CORPUS.iterdir())
BOUND = 0.1  # seconds per input: the seeds are small, their decoding takes well under a millisecond
CONTENT_TYPES = [b"application/json", b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=xyz", b""]


class FakeRequest:
    """What ``RawInput.of`` reads of a twisted.web request."""

    def __init__(self, content_type: bytes, query: bytes, body: bytes):
        self.uri = b"/validate/check?" + query if query else b"/validate/check"
        self.content = io.BytesIO(body)
        self.headers = {b"content-type": content_type, b"content-length": str(len(body)).encode()}

    def getHeader(self, name: bytes) -> bytes | None:  # noqa: N802 (twisted's name)
        return self.headers.get(name.lower()) or None


def replay(data: bytes) -> dict[str, Any] | None:
    """Decode one input the way a request's parameters are decoded: the parameters, or
    None for a refusal."""
    content_type, _, rest = data.partition(b"\n")
    query, _, body = rest.partition(b"\n")
    try:
        return RawInput.of(FakeRequest(content_type, query, body)).decode()
    except ParameterError:
        return None


def assert_storable(value: Any) -> None:
    """Decoded parameters are text a database and a log can take: no lone surrogates."""
    json.dumps(value, ensure_ascii=False).encode("utf-8")


def test_the_corpus_holds_the_issue_inputs() -> None:
    names = {seed.name for seed in SEEDS}
    assert {"multipart-parts-over-limit", "json-deep-brackets", "json-lone-surrogate", "json-int-5000-digits"} <= names


@pytest.mark.parametrize("seed", SEEDS, ids=[seed.name for seed in SEEDS])
def test_every_seed_is_decoded_or_refused_quickly(seed: Path) -> None:
    data = seed.read_bytes()
    started = time.perf_counter()
    decoded = replay(data)
    assert time.perf_counter() - started < BOUND
    if decoded is not None:
        assert_storable(decoded)


def test_seeds_meant_to_be_refused_are_refused() -> None:
    refused = {seed.name for seed in SEEDS if replay(seed.read_bytes()) is None}
    assert {"multipart-parts-over-limit", "multipart-truncated", "json-deep-brackets", "json-open-brackets",
            "json-deep-objects", "json-lone-surrogate", "json-lone-low-surrogate-name", "json-int-5000-digits",
            "json-fields-over-limit", "json-values-over-limit", "json-long-name", "form-lone-percents",
            "form-percent-surrogate", "form-fields-over-limit", "query-not-utf8"} <= refused
    assert not {"multipart-file", "json-surrogate-pair", "json-escaped-backslash-u", "json-brackets-in-strings",
                "form-few-lone-percents", "form-backslash-x", "query-and-form"} & refused


def test_seeds_decode_as_their_encodings_say() -> None:
    assert replay((CORPUS / "form-few-lone-percents").read_bytes()) == {"pass": "50%off", "user": "a%zz"}
    assert replay((CORPUS / "form-backslash-x").read_bytes()) == {"pass": "\\x41\\x41%25"}
    assert replay((CORPUS / "json-escaped-backslash-u").read_bytes()) == {"user": "\\ud800", "pass": "x"}
    assert replay((CORPUS / "query-and-form").read_bytes()) == {"user": "a", "pass": "1", "realm": "r"}
    assert replay((CORPUS / "multipart-file").read_bytes()) == {"file": "serial,key", "type": "aladdin-xml"}


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=8)), max_size=6))
def test_mutated_seeds_are_decoded_or_refused(seed: Path, edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(seed.read_bytes())
    for position, insert in edits:
        at = position % (len(data) + 1)
        data[at:at + len(insert) // 2] = insert
    decoded = replay(bytes(data))
    if decoded is not None:
        assert_storable(decoded)


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(CONTENT_TYPES), st.binary(max_size=300), st.binary(max_size=2000))
def test_random_bytes_are_decoded_or_refused(content_type: bytes, query: bytes, body: bytes) -> None:
    decoded = replay(content_type + b"\n" + query.replace(b"\n", b"") + b"\n" + body)
    if decoded is not None:
        assert_storable(decoded)


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(alphabet="ab=&%+\\xF0é \x00", max_size=600))
def test_form_decoding_agrees_with_parse_qsl(text: str) -> None:
    """The C-speed form decoder reads what urllib reads (within the limits)."""
    try:
        ours: list[tuple[str, str]] | None = bodies.form_pairs(text.encode())
    except ParameterError:
        ours = None
    try:
        theirs: list[tuple[str, str]] | None = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        theirs = None
    if ours is None and theirs is not None:  # refused: a '%' starting no escape among many escapes
        assert any(piece.count("%") > bodies.FEW_ESCAPES for piece in re.split("[&=]", text))
    else:
        assert ours == theirs


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                           max_leaves=30)


@settings(max_examples=300, deadline=None, database=None)
@given(st.dictionaries(st.text(max_size=20), json_values, max_size=10))
def test_json_objects_within_the_limits_round_trip(obj: dict[str, Any]) -> None:
    raw = json.dumps(obj).encode()
    try:
        decoded = bodies.json_object(raw)
    except ParameterError as exc:
        if depth(obj) > bodies.MAX_JSON_DEPTH:
            assert "nests deeper" in str(exc)
        else:  # hypothesis text may hold lone surrogates
            assert "Unicode" in str(exc)
            with pytest.raises(UnicodeEncodeError):
                assert_storable(obj)
    else:
        assert decoded == json.loads(raw)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    return 1 + max(map(depth, value), default=0) if isinstance(value, list) else 0
