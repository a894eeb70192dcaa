"""What every SMS provider module declares: its privacyIDEA module name, its parameters
(the ``option.*`` keys with a meaning of their own), whether free options and headers are
allowed, which values are secrets, how a definition is checked, and the delivery it builds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from tesserad.core.sms.delivery import Delivery
from tesserad.core.tokens.base import ParameterError

# Free option and header names that hold a credential are stored encrypted and listed masked.
SECRET_NAME = re.compile(r"pass|secret|token|key|auth|sig", re.IGNORECASE)


@dataclass(frozen=True)
class Parameter:
    description: str
    required: bool = False
    values: tuple[str, ...] = ()
    secret: bool = False

    def shown(self) -> dict[str, Any]:
        """privacyIDEA's parameter description in ``GET /smsgateway/providers``."""
        shown: dict[str, Any] = {"description": self.description, "required": self.required}
        if self.values:
            shown["values"] = list(self.values)
        return shown


@dataclass(frozen=True)
class GatewayConfig:
    """A gateway definition with its secrets decrypted, as a provider reads it."""

    identifier: str
    module: str
    options: Mapping[str, str]
    headers: Mapping[str, str]
    # The SMTP provider's mail server (core.smtp_servers.SMTPSettings), loaded with the gateway.
    smtp: Any = None


def fill(template: str, phone: str, message: str) -> str:
    """privacyIDEA's two gateway tags: ``{phone}`` and ``{otp}`` (the whole SMS text).
    Plain replacement, so braces in a message or an option mean nothing."""
    return template.replace("{phone}", phone).replace("{otp}", message)


def yes(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "yes", "true", "on")


def seconds(value: str | None, default: float, name: str = "TIMEOUT") -> float:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ParameterError(f"{name} must be a number of seconds, not {value!r}") from None
    if not 0 < number <= 120:
        raise ParameterError(f"{name} must be more than 0 and at most 120 seconds")
    return number


class Provider:
    """One provider module; subclasses fill in the class attributes and ``delivery``."""

    module: ClassVar[str]
    parameters: ClassVar[dict[str, Parameter]]
    options_allowed: ClassVar[bool] = False
    headers_allowed: ClassVar[bool] = False

    def shown(self) -> dict[str, Any]:
        return {"options_allowed": self.options_allowed, "headers_allowed": self.headers_allowed,
                "parameters": {name: p.shown() for name, p in self.parameters.items()}}

    def is_secret(self, kind: str, key: str) -> bool:
        parameter = self.parameters.get(key) if kind == "option" else None
        if parameter is not None:
            return parameter.secret
        return bool(SECRET_NAME.search(key))

    def check(self, options: Mapping[str, str], headers: Mapping[str, str]) -> None:
        """Refuse a definition this provider cannot send with (ParameterError)."""
        for name, parameter in self.parameters.items():
            value = options.get(name, "")
            if parameter.required and not value:
                raise ParameterError(f"missing parameter: option.{name}")
            if parameter.values and value and value not in parameter.values:
                raise ParameterError(f"option.{name} must be one of {', '.join(parameter.values)}")
        if not self.options_allowed:
            unknown = sorted(set(options) - set(self.parameters))
            if unknown:
                raise ParameterError(f"{self.module} takes no option {unknown[0]}")
        if headers and not self.headers_allowed:
            raise ParameterError(f"{self.module} takes no headers")
        for key, value in (*options.items(), *headers.items()):
            if not key or any(c in key + value for c in "\r\n\0"):
                raise ParameterError(f"the option or header {key[:40]!r} has an empty name or a line break")
        self.try_out(GatewayConfig("check", self.module, options, headers))

    def try_out(self, config: GatewayConfig) -> None:
        """Build what sending through ``config`` takes, so that a definition that cannot
        send is refused when it is saved (ParameterError)."""
        self.delivery(config, "+10000000000", "check")

    def delivery(self, config: GatewayConfig, phone: str, message: str) -> Delivery:
        raise NotImplementedError
