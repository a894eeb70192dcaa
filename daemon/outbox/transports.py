"""The transport of each channel kind (``smtp``; ``sms`` joins here)."""

from __future__ import annotations

from typing import Any

from tesserad.core.config import OutboxSection
from tesserad.daemon.outbox.sender import Transport
from tesserad.daemon.outbox.smtp import SMTPTransport, trust_root


def build_transports(reactor: Any, config: OutboxSection) -> dict[str, Transport]:
    """One transport per channel kind, on ``reactor``."""
    return {"smtp": SMTPTransport(reactor, trust_root(config.ca_file))}
