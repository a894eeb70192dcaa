"""A registered WebAuthn token without the HTTP edge, for tests of RADIUS and PAM."""

from __future__ import annotations

import base64

from tesserad.core.tokens.base import TokenClass

from tests.softauthn import SoftAuthenticator

ORIGIN = "https://tessera.example"
RP_ID = "tessera.example"
# /token/init parameters of step 1 as the enrollment policies would set them.
STEP_ONE = {"type": "webauthn", "webauthn_relying_party_id": RP_ID, "webauthn_relying_party_name": "Tessera"}


def finish(token: TokenClass, auth: SoftAuthenticator) -> None:
    """Step 2 of the enrollment of ``token`` (in rollout state clientwait) by ``auth``."""
    done = auth.register(base64.urlsafe_b64decode((token.info("enroll_nonce") or "") + "=="))
    token.complete_two_step({"transaction_id": token.info("enroll_transaction_id"), "HTTP_ORIGIN": ORIGIN,
                             **done.wire()})
