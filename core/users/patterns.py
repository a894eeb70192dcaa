"""User search expressions, shared by the resolvers so that ``GET /user/`` means the same
whatever the store.

Text attributes take ``*`` wildcards and match case-insensitively (``*son``, ``al*``,
``*ice*``, ``alice``). A user id may also be a numeric range, as privacyIDEA's flat-file
resolver accepts: ``=1000``, ``>=1000``, ``<2000``, ``between 1000,2000``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_RANGE = re.compile(r"\s*(>=|<=|>|<|=)\s*(-?\d+)\s*")
_BETWEEN = re.compile(r"\s*between\s+(-?\d+)\s*,\s*(-?\d+)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class UidRange:
    """``low <= uid <= high``; a missing bound is open; bounds are inclusive."""

    low: int | None
    high: int | None

    def __call__(self, value: str) -> bool:
        try:
            number = int(value)
        except ValueError:
            return False
        return (self.low is None or number >= self.low) and (self.high is None or number <= self.high)


def parse_uid_range(pattern: str) -> UidRange | None:
    """The numeric range ``pattern`` denotes, or None when it is a plain text pattern."""
    between = _BETWEEN.fullmatch(pattern)
    if between:
        low, high = sorted((int(between.group(1)), int(between.group(2))))
        return UidRange(low, high)
    match = _RANGE.fullmatch(pattern)
    if not match:
        return None
    op, number = match.group(1), int(match.group(2))
    return {
        "=": UidRange(number, number),
        ">=": UidRange(number, None),
        ">": UidRange(number + 1, None),
        "<=": UidRange(None, number),
        "<": UidRange(None, number - 1),
    }[op]


def matches_everything(pattern: str) -> bool:
    """``*`` (or ``**``...) puts no condition at all, not even "has a value"."""
    return bool(pattern) and set(pattern) == {"*"}


def text_matcher(pattern: str) -> Callable[[str], bool]:
    """A case-insensitive predicate for a ``*`` wildcard pattern."""
    folded = pattern.casefold()
    if "*" not in folded:
        return lambda value: value.casefold() == folded
    regex = re.compile(".*".join(re.escape(part) for part in folded.split("*")), re.DOTALL)
    return lambda value: regex.fullmatch(value.casefold()) is not None


def uid_matcher(pattern: str) -> Callable[[str], bool]:
    """A numeric range when ``pattern`` is one, else a text pattern on the id."""
    return parse_uid_range(pattern) or text_matcher(pattern)


LIKE_ESCAPE = "\\"


def like_pattern(pattern: str) -> str:
    """``pattern`` as an SQL LIKE pattern: ``*`` becomes ``%``; literal ``%``, ``_`` and the
    escape character are escaped, so that a user-supplied ``_`` matches only itself."""
    escaped = (pattern.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
               .replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_"))
    return escaped.replace("*", "%")
