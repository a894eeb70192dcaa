"""The transport of each channel kind (``smtp``, ``sms``, ``fcm``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tesserad.core.config import OutboxSection
from tesserad.core.sms import fcm
from tesserad.daemon.outbox.fcm import FcmTransport
from tesserad.daemon.outbox.sender import Transport
from tesserad.daemon.outbox.smtp import SMTPTransport, trust_root
from tesserad.daemon.sms.config import SmsSection
from tesserad.daemon.sms.transport import SmsTransport


def build_transports(reactor: Any, config: OutboxSection, sms: SmsSection) -> dict[str, Transport]:
    """One transport per channel kind, on ``reactor``."""
    trust = trust_root(config.ca_file)
    smtp = SMTPTransport(reactor, trust)
    return {"smtp": smtp, "sms": SmsTransport(reactor, Path(sms.script_directory), smtp),
            fcm.KIND: FcmTransport(reactor, trust)}
