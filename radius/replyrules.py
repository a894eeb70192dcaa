"""Reply attribute rules (``[[radius.reply]]``, ``[[radius.clients.reply]]``): compiled
against the RADIUS dictionaries when the client table loads, so a bad rule stops the start
(or keeps the running table on SIGHUP) with its config key, and applied to each reply
without further checks.

They do what the privacyIDEA FreeRADIUS plugin's ``[Mapping]`` and ``[Attribute]``
sections do: a fixed value, or every value of a source (the serial, the token type, a user
attribute, the realm, the resolver) that a regular expression matches, put into a template
(the plugin's prefix, ``$1`` and suffix). Values are encoded here, once, as raw attribute
values keyed like pyrad keys them (a number, or ``(vendor id, number)`` for a VSA).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from pyrad import tools
from pyrad.dictionary import Attribute, Dictionary

from tesserad.core.errors import ConfigError
from tesserad.radius.config import RadiusReplyConfig

Key = int | tuple[int, int]
# What rules read for one reply: source name -> its values.
Facts = Mapping[str, Sequence[str]]
Refuse = Callable[[str, str], ConfigError]

ACCEPT, CHALLENGE = "accept", "challenge"
# Sources, and the privacyIDEA policy action without which a reply does not carry them
# (privacyIDEA's /validate/check adds them to its details only when the policy applies).
SOURCES = {"serial": None, "type": None, "realm": "add_resolver_in_response",
           "resolver": "add_resolver_in_response"}
USER_SOURCE = "user."
USER_ACTION = "add_user_in_response"
# Attributes tesserad sets itself (or that carry keys and passwords).
RESERVED = frozenset({"User-Password", "CHAP-Password", "CHAP-Challenge", "State", "Proxy-State",
                      "Vendor-Specific", "EAP-Message", "Message-Authenticator"})
RESERVED_ON_CHALLENGE = frozenset({"Session-Timeout"})
TEXT_TYPES = frozenset({"string", "octets"})
INTEGER_TYPES = frozenset({"integer", "short", "byte", "signed", "integer64", "date"})
OTHER_TYPES = frozenset({"ipaddr", "ipv6addr", "ipv6prefix", "ifid", "ether"})
MAX_VALUE = 253
VSA_HEADER = 6  # vendor id and the vendor attribute's type and length


class Unencodable(ValueError):
    """A value that the attribute's data type cannot carry."""


def gate(source: str) -> str | None:
    """The policy action a source needs, or None."""
    return USER_ACTION if source.startswith(USER_SOURCE) else SOURCES.get(source)


@dataclass(frozen=True)
class ReplyRule:
    attribute: str
    key: Key
    datatype: str
    on: frozenset[str]
    source: str = ""
    template: str = "{0}"
    pattern: re.Pattern[str] | None = None
    tag: int | None = None
    fixed: bytes | None = None
    names: Mapping[str, bytes] = field(default_factory=dict, hash=False)

    def values(self, facts: Facts) -> tuple[list[bytes], int]:
        """The encoded values for this reply, and how many source values could not be
        encoded (the caller logs that, never the values: they are user data)."""
        if self.fixed is not None:
            return [self.fixed], 0
        encoded, failed = [], 0
        for value in facts.get(self.source, ()):
            if self.pattern is None:
                groups: tuple[str, ...] = (value,)
            else:
                found = self.pattern.search(value)
                if found is None:
                    continue
                groups = (found.group(0), *found.groups(default=""))
            try:
                encoded.append(self.encode(self.template.format(*groups)))
            except Unencodable:
                failed += 1
        return encoded, failed

    def encode(self, text: str) -> bytes:
        """``text`` as this attribute's raw value: a VALUE name, else by data type."""
        if text in self.names:
            raw = self.names[text]
        elif self.datatype in TEXT_TYPES:
            raw = text.encode()  # octets too: "100" is the text, not one octet of 100
        elif self.datatype in INTEGER_TYPES:
            if not re.fullmatch(r"-?[0-9]+", text):
                raise Unencodable(f"{text!r} is neither a number nor a value name of {self.attribute}")
            raw = _encode(self.datatype, int(text))
        else:
            raw = _encode(self.datatype, text)
        if self.tag is not None:
            raw = _tagged(raw, self.tag, self.datatype)
        limit = MAX_VALUE - (VSA_HEADER if isinstance(self.key, tuple) else 0)
        if len(raw) > limit:
            raise Unencodable(f"{len(raw)} octets, more than the {limit} that fit into {self.attribute}")
        if not raw:
            raise Unencodable("an empty value")
        return raw


def _encode(datatype: str, value: object) -> bytes:
    try:
        return bytes(tools.EncodeAttr(datatype, value))
    except (ValueError, TypeError, OSError, struct.error) as exc:
        raise Unencodable(f"not a valid {datatype}: {exc}") from None


def _tagged(raw: bytes, tag: int, datatype: str) -> bytes:
    """RFC 2868 section 3: the tag replaces the first octet of an integer and precedes
    other values (always when set, and as 0 when the value could be read as a tag)."""
    if datatype == "integer":
        if raw[0]:
            raise Unencodable("a tagged integer holds at most 24 bits")
        return bytes([tag]) + raw[1:]
    return bytes([tag]) + raw if tag or (raw and raw[0] <= 0x1F) else raw


def compile_rules(configs: Sequence[RadiusReplyConfig], dictionary: Dictionary, prefix: str,
                  source: str) -> tuple[ReplyRule, ...]:
    """The rules of ``configs`` (config key ``prefix``); ConfigError naming the key of the
    first bad one."""
    return tuple(_compile(config, dictionary, f"{prefix}[{index}]", source)
                 for index, config in enumerate(configs))


def _compile(config: RadiusReplyConfig, dictionary: Dictionary, key: str, path: str) -> ReplyRule:
    def refuse(name: str, reason: str) -> ConfigError:
        return ConfigError(reason, path=path, key=f"{key}.{name}")

    attribute = _attribute(config, dictionary, refuse)
    on = frozenset(config.on)
    if not on or not on <= {ACCEPT, CHALLENGE}:
        raise refuse("on", f"must list accept and/or challenge, not {config.on!r}")
    if CHALLENGE in on and attribute.name in RESERVED_ON_CHALLENGE:
        raise refuse("on", f"tesserad sets {attribute.name} of a challenge itself")
    if not 0 <= config.tag <= 0x1F:
        raise refuse("tag", f"must be 0..31, not {config.tag}")
    if config.tag and not attribute.has_tag:
        raise refuse("tag", f"{attribute.name} is not a tagged attribute")
    vendor = dictionary.vendors.GetForward(attribute.vendor) if attribute.vendor else None
    rule = ReplyRule(
        attribute.name, (vendor, attribute.code) if vendor is not None else attribute.code, attribute.type, on,
        tag=config.tag if attribute.has_tag else None,
        names={name: bytes(raw) for name, raw in attribute.values.forward.items()})
    if not config.source:
        if config.match:
            raise refuse("match", "a match needs a source")
        if not config.value:
            raise refuse("value", "set a value, or a source to take it from")
        try:
            return replace(rule, fixed=rule.encode(config.value))
        except Unencodable as exc:
            raise refuse("value", str(exc)) from None
    return _with_source(rule, config, refuse)


def _attribute(config: RadiusReplyConfig, dictionary: Dictionary, refuse: Refuse) -> Attribute:
    if not config.attribute:
        raise refuse("attribute", "required: the attribute's name in the RADIUS dictionaries")
    if config.attribute not in dictionary.attributes:
        raise refuse("attribute", f"{config.attribute!r} is not in the RADIUS dictionaries "
                                  "(add its vendor's file to radius.dictionaries)")
    attribute = dictionary.attributes[config.attribute]
    if attribute.name in RESERVED:
        raise refuse("attribute", f"tesserad sets {attribute.name} itself")
    if attribute.encrypt:
        raise refuse("attribute", f"{attribute.name} is encrypted; reply rules cannot send it")
    if attribute.is_sub_attribute or attribute.type not in TEXT_TYPES | INTEGER_TYPES | OTHER_TYPES:
        raise refuse("attribute", f"{attribute.name} has data type {attribute.type}, which reply rules "
                                  "do not support")
    return attribute


def _with_source(rule: ReplyRule, config: RadiusReplyConfig, refuse: Refuse) -> ReplyRule:
    source = config.source
    if source not in SOURCES and not (source.startswith(USER_SOURCE) and len(source) > len(USER_SOURCE)):
        raise refuse("source", f"unknown source {source!r} (known: {', '.join(SOURCES)}, user.<attribute>)")
    if gate(source) and CHALLENGE in rule.on:
        raise refuse("on", f"{source} is sent on accept only (privacyIDEA adds it on success)")
    try:
        pattern = re.compile(config.match) if config.match else None
    except re.error as exc:
        raise refuse("match", f"not a regular expression: {exc}") from None
    template = config.value or "{0}"
    try:
        template.format(*["x"] * (1 + (pattern.groups if pattern else 0)))
    except (IndexError, KeyError, ValueError) as exc:
        groups = pattern.groups if pattern else 0
        raise refuse("value", f"bad template ({exc!r}): use {{0}} for the value and {{1}}..{{{groups}}} "
                              "for the groups of match, {{ and }} for braces") from None
    return replace(rule, source=source, template=template, pattern=pattern)

