"""Typed access to request parameters, with the precise errors a client needs.

Parameters arrive as query string, form, JSON or multipart (``api.RawInput``). A handler asks for
each one with the type it expects; a wrong type or a missing required parameter is a
ParameterError (905) naming the parameter, raised before anything is changed. Parameters
a handler does not ask for are ignored, as privacyIDEA does: its clients (the web UI
among them) send more than each endpoint reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from tesserad.admin_web.api import text_value
from tesserad.core.tokens.base import ParameterError

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})
MAX_TEXT = 4096
_NOT_TEXT = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


class Params(Mapping[str, Any]):
    """The parameters of one request (read-only)."""

    def __init__(self, raw: Mapping[str, Any]):
        self._raw = dict(raw)

    def __getitem__(self, key: str) -> Any:
        return self._raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def text(self, name: str, default: str | None = None, *, max_length: int = MAX_TEXT) -> str | None:
        """The parameter as text, ``default`` when absent."""
        if name not in self._raw:
            return default
        value = text_value(name, self._raw[name])
        if len(value) > max_length or "\x00" in value:
            raise ParameterError(f"parameter {name} is longer than {max_length} characters or contains NUL")
        return value

    def required(self, name: str, *, max_length: int = MAX_TEXT) -> str:
        """A parameter that must be present and not empty."""
        value = self.text(name, max_length=max_length)
        if not value:
            raise ParameterError(f"missing parameter: {name}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean: true/false, 1/0, yes/no, on/off (any case) or a JSON boolean."""
        value = self._raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        word = text_value(name, value).strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
        raise ParameterError(f"parameter {name} must be a boolean (true/false, 1/0), not {word[:40]!r}")

    def integer(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise ParameterError(f"parameter {name} must be an integer, not a boolean")
        try:
            number = int(text_value(name, value).strip())
        except ValueError:
            raise ParameterError(f"parameter {name} must be an integer") from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            bounds = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise ParameterError(f"parameter {name} must be {bounds}")
        return number

    def names(self, name: str) -> list[str] | None:
        """A list of names: a JSON list of strings, or comma-separated text; None when absent."""
        value = self._raw.get(name)
        if value is None:
            return None
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                raise ParameterError(f"parameter {name} must be a list of strings")
            items = value
        else:
            items = (self.text(name) or "").split(",")
        return [item.strip() for item in items if item.strip()]

    def texts(self, structured: Collection[str] = ()) -> dict[str, str]:
        """All parameters as text, for code that reads many of them (token enrollment); the
        ``structured`` ones may be JSON objects or lists, handed on as JSON text."""
        return {name: json.dumps(value) if name in structured and isinstance(value, (dict, list))
                else text_value(name, value) for name, value in self._raw.items()}


def check_path(values: dict[str, str]) -> None:
    """The values a route takes from the URL path (a serial, a realm name) are names: a
    control character or a lone surrogate in one is refused like a bad parameter."""
    for name, value in values.items():
        if _NOT_TEXT.search(value):
            raise ParameterError(f"the path's {name} holds a control character or invalid Unicode")
