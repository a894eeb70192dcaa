"""The rate limit of API logins: failures per user name and per client address in a window.

An attempt takes one unit of each budget with one conditional UPDATE *before* the password
is checked, committed at once; a success gives the units back. So the limit holds across
processes and nodes even for concurrent guesses, and a refused attempt costs no hashing.

A user's budget is named by ``user_key``: the login as the most lenient user store compares
it, so that spellings one store takes for the same user (LDAP ignores case, surrounding and
repeated spaces, and compatibility forms of characters) share one budget.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, bindparam, case, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tesserad.core.clock import Clock, utc_datetime
from tesserad.core.store import Database
from tesserad.core.store.models import LoginFailure

USER, CLIENT = "user", "client"
_EXPIRED = LoginFailure.window_start <= bindparam("b_cutoff")
# Take one unit: a new window when the old one has passed, else one more while below the limit.
_TAKE = (update(LoginFailure)
         .where(LoginFailure.kind == bindparam("b_kind"), LoginFailure.name == bindparam("b_name"),
                or_(_EXPIRED, LoginFailure.count < bindparam("b_limit")))
         .values(count=case((_EXPIRED, 1), else_=LoginFailure.count + 1),
                 window_start=case((_EXPIRED, bindparam("b_now")), else_=LoginFailure.window_start))
         .execution_options(synchronize_session=False))


def user_key(login: str, realm: str) -> str:
    """The name of ``login``'s budget in ``realm``: NFKC, spaces collapsed, case-folded."""
    folded = " ".join(unicodedata.normalize("NFKC", login).split()).casefold()
    return f"{folded}@{realm}"[:320]


@dataclass(frozen=True)
class Budget:
    kind: str
    name: str
    limit: int


class LoginThrottle:
    def __init__(self, database: Database, clock: Clock):
        self._database = database
        self._clock = clock

    def take(self, budgets: list[Budget], window: int) -> bool:
        """Count an attempt against every budget; False when one of them is used up (the
        others still count it). Runs in its own transaction."""
        now = utc_datetime(self._clock)
        values = {"b_now": now, "b_cutoff": now - timedelta(seconds=window)}
        with self._database.session() as session:
            granted = [self._take_one(session, budget, values) for budget in budgets]
            session.commit()
        return all(granted)

    @staticmethod
    def _take_one(session: Session, budget: Budget, values: Mapping[str, object]) -> bool:
        params = {**values, "b_kind": budget.kind, "b_name": budget.name, "b_limit": budget.limit}
        if session.execute(_TAKE, params).rowcount:  # type: ignore[attr-defined]
            return True
        try:
            with session.begin_nested():
                session.add(LoginFailure(kind=budget.kind, name=budget.name, count=1,
                                         window_start=values["b_now"]))
            return True
        except IntegrityError:  # a row exists: used up, or another process just created it
            return bool(session.execute(_TAKE, params).rowcount)  # type: ignore[attr-defined]

    def give_back(self, budgets: list[Budget]) -> None:
        """After a successful login: the user's failures are forgiven, the client's
        attempt is returned."""
        with self._database.session() as session:
            for budget in budgets:
                new_count = 0 if budget.kind == USER else case((LoginFailure.count > 0, LoginFailure.count - 1),
                                                               else_=0)
                session.execute(update(LoginFailure).where(and_(LoginFailure.kind == budget.kind,
                                                                LoginFailure.name == budget.name))
                                .values(count=new_count).execution_options(synchronize_session=False))
            session.commit()
