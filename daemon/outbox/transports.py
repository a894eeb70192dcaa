"""The transport of each channel kind (``smtp``; ``sms`` joins here)."""

from __future__ import annotations

from typing import Any

from tesserad.daemon.outbox.sender import Transport


def build_transports(reactor: Any) -> dict[str, Transport]:
    """One transport per channel kind, on ``reactor``."""
    return {}
