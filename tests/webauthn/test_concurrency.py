"""One WebAuthn challenge, one login: 20 requests carrying the same right answer race,
exactly one is accepted (the counter UPDATE and the challenge deletion are both conditional),
on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tesserad.core.auth.request import AuthRequest, Outcome
from tesserad.core.webauthn.wire import SignResponse

from tests.http.restapi import Api
from tests.softauthn import SoftAuthenticator
from tests.webauthn.conftest import ORIGIN, challenge, register, unb64

RACERS = 20


def test_twenty_concurrent_answers_one_accept(wa: Api) -> None:
    auth = SoftAuthenticator()
    serial = register(wa, auth)
    found = challenge(wa)["multi_challenge"][0]
    signed = auth.assert_(unb64(found["attributes"]["webAuthnSignRequest"]["challenge"]))
    request = AuthRequest(password="", user="alice", transaction_id=found["transaction_id"],
                          webauthn=SignResponse(**signed.wire(), origin=ORIGIN))
    start = threading.Barrier(RACERS)

    def race(_: int) -> Outcome:
        start.wait()
        return wa.core.auth.authenticate(request).outcome

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = list(pool.map(race, range(RACERS)))
    assert outcomes.count(Outcome.ACCEPT) == 1
    assert outcomes.count(Outcome.REJECT) == RACERS - 1
    assert wa.core.token(serial).count == 1
