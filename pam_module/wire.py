"""The PAM wire protocol, version 1 (PROTOCOL.md): frames and the fields they carry.

A frame is a 4-byte big-endian length and that many bytes of payload; a payload is
``key=value`` fields, each ended by a NUL byte. Both ends bound the frame size before
they buffer anything, so a peer cannot make the daemon hold more than one frame.
"""
from __future__ import annotations

import re
import struct
from collections.abc import Mapping

from tesserad.pam_module.request import PamReply, PamRequest

VERSION = "1"
HEADER = struct.Struct(">I")
# The protocol's own ceiling; ``pam.max_frame`` picks the daemon's limit below it.
MAX_FRAME_LIMIT = 65536
MAX_FIELDS = 32
KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
# Bounds of the request's text fields (the password's is the engine's: 4096).
MAX_NAME = 320
MAX_ITEM = 1024
MAX_STATE = 63
# Bytes of message text in a reply: well inside the module's 8192-byte frame limit.
MAX_MESSAGE = 4096
REQUIRED = ("v", "op", "user")
REQUEST_ITEMS = ("service", "rhost", "tty", "realm", "state")


class FrameError(ValueError):
    """A frame or payload that breaks the protocol; the message says how (never quoting a secret)."""


def encode(fields: Mapping[str, str]) -> bytes:
    """A whole frame carrying ``fields``."""
    parts = []
    for key, value in fields.items():
        if not KEY.fullmatch(key) or "\0" in value:
            raise FrameError(f"field {key!r} cannot be encoded")
        parts.append(f"{key}={value}\0".encode())
    payload = b"".join(parts)
    return HEADER.pack(len(payload)) + payload


def decode(payload: bytes) -> dict[str, str]:
    """The fields of a payload; FrameError when it is not well formed."""
    if not payload.endswith(b"\0"):
        raise FrameError("the payload does not end with a NUL byte")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError(f"the payload is not UTF-8 (byte {exc.start})") from None
    records = text[:-1].split("\0")
    if len(records) > MAX_FIELDS:
        raise FrameError(f"more than {MAX_FIELDS} fields")
    fields: dict[str, str] = {}
    for index, record in enumerate(records):
        key, sep, value = record.partition("=")
        if not sep or not KEY.fullmatch(key):
            raise FrameError(f"field {index} is not key=value with a lower-case key")
        if key in fields:
            raise FrameError(f"field {key!r} appears twice")
        fields[key] = value
    return fields


class FrameReader:
    """Splits a byte stream into payloads, refusing a length above ``max_frame`` as soon as
    its header arrives."""

    def __init__(self, max_frame: int):
        self.max_frame = max_frame
        self._buffer = b""

    @property
    def pending(self) -> int:
        """Bytes received that do not make a whole frame yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buffer)
            if not 0 < length <= self.max_frame:
                raise FrameError(f"a frame of {length} bytes (allowed: 1 to {self.max_frame})")
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            frames.append(self._buffer[HEADER.size:end])
            self._buffer = self._buffer[end:]
        return frames


def _bounded(fields: Mapping[str, str], key: str, limit: int) -> str:
    value = fields.get(key, "")
    if len(value) > limit:
        raise FrameError(f"{key} is longer than {limit} characters")
    if key != "password" and any(ord(c) < 32 for c in value):
        raise FrameError(f"{key} contains control characters")
    return value


def request(fields: Mapping[str, str], host: str) -> PamRequest:
    """The PamRequest a version 1 ``op=auth`` payload asks for; unknown fields are ignored so
    that a newer module can talk to an older daemon."""
    for key in REQUIRED:
        if key not in fields:
            raise FrameError(f"missing field {key!r}")
    if fields["v"] != VERSION:
        raise FrameError(f"protocol version {fields['v'][:8]!r} is not supported (this daemon speaks {VERSION})")
    if fields["op"] != "auth":
        raise FrameError(f"unknown op {fields['op'][:16]!r}")
    user = _bounded(fields, "user", MAX_NAME)
    if not user:
        raise FrameError("user is empty")
    # The engine bounds the password (and says so); the frame size bounds it here.
    service, rhost, tty, realm = (_bounded(fields, key, MAX_ITEM) for key in ("service", "rhost", "tty", "realm"))
    state = _bounded(fields, "state", MAX_STATE)
    return PamRequest(user=user, password=fields.get("password", ""), service=service, rhost=rhost, tty=tty,
                      realm=realm or None, state=state or None, host=host)


def reply(answer: PamReply) -> bytes:
    """The frame for an authenticator's answer."""
    fields = {"v": VERSION, "result": answer.outcome.value, "message": _printable(answer.message)}
    if answer.state:
        fields["state"] = answer.state
    return encode(fields)


def error(message: str) -> bytes:
    """The frame that refuses a request the daemon could not read."""
    return encode({"v": VERSION, "result": "error", "message": _printable(message)})


def _printable(text: str) -> str:
    """Without NUL bytes, and cut to MAX_MESSAGE bytes on a character boundary."""
    return text.replace("\0", "").encode()[:MAX_MESSAGE].decode("utf-8", "ignore")

