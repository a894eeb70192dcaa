"""The transport of each channel kind (``sms``; ``smtp`` joins here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tesserad.daemon.outbox.sender import Transport
from tesserad.daemon.sms.config import SmsSection
from tesserad.daemon.sms.transport import SmsTransport


def build_transports(reactor: Any, sms: SmsSection) -> dict[str, Transport]:
    """One transport per channel kind, on ``reactor``."""
    return {"sms": SmsTransport(reactor, Path(sms.script_directory))}
