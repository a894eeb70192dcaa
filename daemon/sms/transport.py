"""The outbox transport of channel kind ``sms``: builds the gateway's delivery from the
definition the loader read (``core.sms.gateways.loaded``) and hands it to the sender, or,
for the SMTP provider, to the ``smtp`` transport with the mail server loaded alongside. A
definition that cannot send is a permanent failure; a gateway that is down or answers
without success is a temporary one, retried by the outbox."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred

from tesserad.core import smtp_servers
from tesserad.core.errors import TesseraError
from tesserad.core.outbox import DeliveryError, Outgoing
from tesserad.core.sms import gateways
from tesserad.core.sms.delivery import Mail
from tesserad.daemon.outbox.sender import Transport
from tesserad.daemon.sms.sender import SmsSender


class SmsTransport:
    def __init__(self, reactor: Any, script_directory: Path, smtp: Transport, *, trust_root: Any = None):
        self.sender = SmsSender(reactor, script_directory, trust_root=trust_root)
        self.smtp = smtp

    def send(self, message: Outgoing) -> Deferred[None]:
        return Deferred.fromCoroutine(self._send(message))

    async def _send(self, message: Outgoing) -> None:
        try:
            delivery = gateways.delivery(message.settings, message.recipient, message.payload.get("text", ""))
        except TesseraError as exc:
            raise DeliveryError(f"the SMS gateway {message.identifier!r} cannot send: {exc}", permanent=True) from None
        if isinstance(delivery, Mail):
            await self.smtp.send(dataclasses.replace(
                message, channel=smtp_servers.channel(delivery.smtp_identifier), recipient=delivery.recipient,
                payload={"subject": delivery.subject, "body": delivery.body, "mime": "text/plain"},
                settings=message.settings.smtp))
            return
        outcome = await self.sender.send(delivery)
        if not outcome.sent:
            raise DeliveryError(outcome.reason)
