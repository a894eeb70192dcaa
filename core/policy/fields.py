"""The list, client and time attributes of a policy: parsed once when policies load,
then matched against every request without parsing again.

Parsers raise ValueError with the reason; the caller names the policy attribute.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

EXCLUDE = ("-", "!")


def split_list(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """The non-empty items of a comma list (or of a list of such strings), stripped."""
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else [p for v in value for p in str(v).split(",")]
    return tuple(item for item in (p.strip() for p in parts) if item)


@dataclass(frozen=True)
class _Name:
    """One entry: ``*``, a name (case-insensitive), or an anchored regular expression."""

    text: str
    regex: re.Pattern[str] | None

    @classmethod
    def parse(cls, text: str) -> _Name:
        if not text:
            raise ValueError("an exclusion needs a name after '-' or '!'")
        if text == "*":
            return cls(text, None)
        try:
            return cls(text, re.compile(text, re.IGNORECASE))
        except re.error as exc:
            raise ValueError(f"{text!r} is not a valid regular expression: {exc}") from None

    def matches(self, name: str) -> bool:
        if self.regex is None:
            return True
        return name.casefold() == self.text.casefold() or self.regex.fullmatch(name) is not None


@dataclass(frozen=True)
class NameList:
    """A list of names (realm, resolver, user, adminrealm, adminuser, pinode).

    Empty matches every name. Otherwise a name matches when some entry includes it and no
    ``-entry`` / ``!entry`` excludes it: ``*, -admin`` is everybody but admin, while a list
    of exclusions alone matches nobody (privacyIDEA's reading, kept so imports behave the
    same). Entries are compared case-insensitively, literally or as a regular expression
    that must match the whole name (``user1`` does not match ``user1234``).
    """

    entries: tuple[str, ...] = ()
    include: tuple[_Name, ...] = ()
    exclude: tuple[_Name, ...] = ()

    @classmethod
    def parse(cls, entries: tuple[str, ...]) -> NameList:
        include = tuple(_Name.parse(e) for e in entries if not e.startswith(EXCLUDE))
        exclude = tuple(_Name.parse(e[1:].strip()) for e in entries if e.startswith(EXCLUDE))
        return cls(entries, include, exclude)

    def matches(self, name: str) -> bool:
        if not self.entries:
            return True
        return any(n.matches(name) for n in self.include) and not any(n.matches(name) for n in self.exclude)

    def matches_any(self, names: Collection[str]) -> bool:
        return any(self.matches(name) for name in names)


def parse_address(text: str) -> IPAddress:
    """A client address; IPv4-mapped IPv6 (``::ffff:10.0.0.1``, from dual-stack sockets)
    becomes the IPv4 address, so IPv4 policies apply to it."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _network(text: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or network") from None


@dataclass(frozen=True)
class ClientList:
    """Client addresses and networks, IPv4 and IPv6, with ``-``/``!`` exclusions
    (``10.2.0.0/16, -10.2.0.1``). Empty matches every client, including an unknown one."""

    entries: tuple[str, ...] = ()
    include: tuple[IPNetwork, ...] = ()
    exclude: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: tuple[str, ...]) -> ClientList:
        include = tuple(_network(e) for e in entries if not e.startswith(EXCLUDE))
        exclude = tuple(_network(e[1:].strip()) for e in entries if e.startswith(EXCLUDE))
        return cls(entries, include, exclude)

    def contains(self, address: IPAddress | None) -> bool:
        """Whether ``address`` (None: the client is unknown) is one of these clients."""
        if not self.entries:
            return True
        if address is None:
            return False
        return any(address in n for n in self.include) and not any(address in n for n in self.exclude)


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?:"
                     r"(?P<sh>\d{1,2})(?::(?P<sm>\d{2}))?-(?P<eh>\d{1,2})(?::(?P<em>\d{2}))?")


@dataclass(frozen=True)
class _Window:
    first_day: int
    last_day: int
    start: int  # minutes after midnight
    end: int    # inclusive: 8-18 still holds at 18:00

    def contains(self, moment: datetime) -> bool:
        day = moment.weekday()
        if self.first_day <= self.last_day:
            on_day = self.first_day <= day <= self.last_day
        else:  # Fri-Mon runs over the weekend
            on_day = day >= self.first_day or day <= self.last_day
        return on_day and self.start <= moment.hour * 60 + moment.minute <= self.end


def _minutes(hour: str, minute: str | None, *, end: bool) -> int:
    value = int(hour) * 60 + int(minute or 0)
    if int(minute or 0) > 59 or value > (24 * 60 if end else 23 * 60 + 59):
        raise ValueError(f"{hour}:{minute or '00'} is not a time of day")
    return value


def _window(text: str) -> _Window:
    found = _WINDOW.fullmatch("".join(text.split()).lower())
    if not found or found["first"] not in DAYS or (found["last"] or found["first"]) not in DAYS:
        raise ValueError(f"{text!r} is not a time window like 'Mon-Fri: 8-18' or 'Sat: 10:00-12:30'")
    start = _minutes(found["sh"], found["sm"], end=False)
    end = _minutes(found["eh"], found["em"], end=True)
    if start > end:
        raise ValueError(f"{text!r} ends before it starts; split a window at midnight, "
                         "like 'Mon: 22-24, Tue: 0-6'")
    return _Window(DAYS.index(found["first"]), DAYS.index(found["last"] or found["first"]), start, end)


@dataclass(frozen=True)
class TimeWindows:
    """When a policy applies: ``<dow>[-<dow>]: <hh>[:<mm>]-<hh>[:<mm>]`` entries separated
    by commas, e.g. ``Mon-Fri: 8-18, Sat: 10:00-12:30``. Days may wrap (``Fri-Mon``); the end
    minute is included (``8-18`` holds until 18:00:59); ``24`` ends a window at midnight.
    Empty means always."""

    text: str = ""
    windows: tuple[_Window, ...] = ()

    @classmethod
    def parse(cls, text: str) -> TimeWindows:
        return cls(text, tuple(_window(part) for part in text.split(",") if part.strip()))

    def contains(self, moment: datetime) -> bool:
        return not self.windows or any(w.contains(moment) for w in self.windows)
