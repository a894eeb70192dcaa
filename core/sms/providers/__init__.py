"""The provider modules by their privacyIDEA module name: another provider slots in by
adding its module here."""

from __future__ import annotations

from tesserad.core.sms.providers.base import Provider
from tesserad.core.sms.providers.firebase import FirebaseProvider
from tesserad.core.sms.providers.http import HttpProvider
from tesserad.core.sms.providers.script import ScriptProvider
from tesserad.core.sms.providers.sipgate import SipgateProvider
from tesserad.core.sms.providers.smtp import SmtpProvider
from tesserad.core.tokens.base import ParameterError

PROVIDERS: dict[str, Provider] = {p.module: p for p in (HttpProvider(), SipgateProvider(), ScriptProvider(),
                                                        SmtpProvider(), FirebaseProvider())}


def provider(module: str) -> Provider:
    found = PROVIDERS.get(module)
    if found is None:
        raise ParameterError(f"unknown SMS provider module {module[:80]!r}")
    return found
