"""The State attribute of an Access-Challenge: the engine's transaction id with a MAC tag.

The NAS echoes State unchanged in the next Access-Request (RFC 2865 section 5.24). The
tag is an HMAC over the transaction id, the client name and the User-Name, under a key of
its own (``purpose="radius-state"``), so a State is unpredictable (128 bits of tag beyond
the random transaction id), is only good for the client and user it was issued to, and
any worker process or node with the same keys can verify it without shared memory.
"""

from __future__ import annotations

import hmac
import json

from tesserad.core.auth import challenges
from tesserad.core.security.base import SecurityModule

PURPOSE = "radius-state"
TAG_LENGTH = 16


class StateCodec:
    def __init__(self, security: SecurityModule):
        self._security = security

    def issue(self, transaction_id: str, client: str, user: str) -> bytes:
        return transaction_id.encode("ascii") + self._tag(transaction_id, client, user)

    def verify(self, state: bytes, client: str, user: str) -> str | None:
        """The transaction id in ``state`` if it was issued to ``client`` and ``user``."""
        raw_id, tag = state[:-TAG_LENGTH], state[-TAG_LENGTH:]
        if not raw_id.isascii():
            return None
        transaction_id = raw_id.decode("ascii")
        if not challenges.is_transaction_id(transaction_id):
            return None
        if not hmac.compare_digest(tag, self._tag(transaction_id, client, user)):
            return None
        return transaction_id

    def _tag(self, transaction_id: str, client: str, user: str) -> bytes:
        message = json.dumps([transaction_id, client, user]).encode()
        return self._security.hmac(message, purpose=PURPOSE)[:TAG_LENGTH]
