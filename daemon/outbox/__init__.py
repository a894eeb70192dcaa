"""The outbox sender: delivers the messages the core queued (``tesserad.core.outbox``).

Claims and results are database work and run in the core thread pool; the network round
trip is a Deferred on the reactor, so a slow or dead gateway holds no core thread.
Each channel kind has its transport in ``build_transports``."""

from tesserad.daemon.outbox.sender import OutboxSender, Transport
from tesserad.daemon.outbox.transports import build_transports

__all__ = ["OutboxSender", "Transport", "build_transports"]
