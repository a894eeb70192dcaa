"""The push token's answers race: ten concurrent approvals of one nonce mark it once, and
ten concurrent final checks of the transaction accept once (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from tesserad.core.auth.request import Outcome
from tesserad.core.clock import utc_datetime
from tesserad.core.store.models import Challenge
from tesserad.core.tokens import push

from tests.push_app import PushApp, b32sign
from tests.wired import Core

URL = "https://mfa.example.org/ttype/push"


def enrolled(core: Core) -> PushApp:
    serial = core.enroll("alice", type="push", genkey="1", pin="1", push_registration_url=URL)
    app = PushApp(lambda method, path, params: (0, {}))
    app.serial = serial
    with core.database.session() as session:
        credential = core.tokens.get(session, serial).secret_info("enrollment_credential")
        push.finish_enrollment(session, core.tokens, {"serial": serial, "pubkey": app.pubkey(),
                                                      "enrollment_credential": credential})
        session.commit()
    return app


def test_ten_approvals_count_once(core: Core) -> None:
    app = enrolled(core)
    first = core.check("1")
    assert first.outcome is Outcome.CHALLENGE and first.transaction_id
    with core.database.session() as session:
        nonce = session.scalar(select(Challenge.challenge).where(Challenge.serial == app.serial))
    assert nonce
    params = {"serial": app.serial, "nonce": nonce, "signature": b32sign(app.key, f"{nonce}|{app.serial}")}
    start = threading.Barrier(10)

    def approve(_: int) -> bool:
        start.wait()
        with core.database.session() as session:
            try:
                push.answer(session, core.tokens, params, utc_datetime(core.clock))
            except push.PushError:
                return False
            session.commit()
            return True

    with ThreadPoolExecutor(max_workers=10) as pool:
        approved = list(pool.map(approve, range(10)))
    assert approved.count(True) == 1

    def final(_: int) -> Outcome:
        start.wait()
        return core.check("", transaction_id=first.transaction_id).outcome

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(final, range(10)))
    assert outcomes.count(Outcome.ACCEPT) == 1 and outcomes.count(Outcome.REJECT) == 9
