"""The durable outbox: email, SMS and push messages written with the challenge that needs them,
delivered by a sender in any process, each at most once per lease.

Interface (for token types and channel kinds):

- ``Outbox.enqueue(session, channel, recipient, payload, serial=, transaction_id=,
  expires_at=)`` adds a message in the caller's transaction; nothing is sent if that
  transaction rolls back. ``channel`` is ``"<kind>:<identifier>"`` (``smtp:mail1``,
  ``sms:gw1``, ``fcm:fb1``); ``payload`` is a ``dict[str, str]`` (email: ``subject``, ``body``,
  ``mime`` ``text/plain`` or ``text/html``; SMS: ``text``; push: the app's data and
  ``fbtoken``, see ``core.sms.fcm``), stored encrypted.
- A channel kind registers a ``Loader`` in ``channels.LOADERS`` (as ``smtp`` does): ``loader(session,
  security, identifier)`` runs in a core thread at claim time and returns the settings the
  transport needs (secrets decrypted) or raises ``DeliveryError(permanent=True)`` when the
  definition is gone.
- The daemon's sender (``tesserad.daemon.outbox``) claims due messages with
  ``Outbox.claim`` (an atomic conditional UPDATE per row sets a lease, so two processes
  never both hold one), hands each ``Outgoing`` to the transport registered for its kind
  (``transport.send(outgoing) -> Deferred``; failures as ``DeliveryError``), and reports
  with ``Outbox.delivered`` / ``Outbox.failed``, which write the audit row.

Retries: a temporary failure is retried after ``retry_delays`` (the last delay repeats)
up to ``max_attempts``; a permanent one (SMTP 5xx, unknown definition), an expired
message or the last attempt marks the message failed. The payload is wiped when the
message ends either way; the audit names channel, recipient and outcome, never the text.
"""

from tesserad.core.outbox.channels import LOADERS, DeliveryError, Loader
from tesserad.core.outbox.queue import Outbox, OutboxSettings, Outgoing

__all__ = ["LOADERS", "DeliveryError", "Loader", "Outbox", "OutboxSettings", "Outgoing"]
