"""privacyIDEA's ScriptSMSProvider: the executable ``SCRIPT`` from the daemon's script
directory gets the phone number as its only argument and the text on stdin; it sent the SMS
if it exits 0 within ``TIMEOUT`` seconds. ``BACKGROUND`` is not offered: the outbox
already keeps the login from waiting, and a script left running could not be judged.
The name is a plain file name: no directory part, no shell, so the definition cannot reach
outside the directory the operator filled.
"""

from __future__ import annotations

import re

from tesserad.core.sms.delivery import Command
from tesserad.core.sms.providers.base import GatewayConfig, Parameter, Provider, seconds
from tesserad.core.tokens.base import ParameterError

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


class ScriptProvider(Provider):
    module = "privacyidea.lib.smsprovider.ScriptSMSProvider.ScriptSMSProvider"
    parameters = {
        "SCRIPT": Parameter("File name of the script in the script directory.", required=True),
        "TIMEOUT": Parameter("Seconds the script may run (default 10)."),
    }

    def delivery(self, config: GatewayConfig, phone: str, message: str) -> Command:
        options = config.options
        script = options.get("SCRIPT", "")
        if not _NAME.fullmatch(script):
            raise ParameterError("option.SCRIPT must be a plain file name in the script directory")
        return Command(script, (phone,), message.encode("utf-8"), seconds(options.get("TIMEOUT"), 10.0))
