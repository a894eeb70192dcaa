"""When a failed login is answered: no sooner than ``web.failure_floor_ms`` after the request began.

An unknown user, a wrong password and a wrong OTP cost different work (an argon2 decoy, a
user-store bind, a few HMACs), and the difference would tell which names exist. So the
HTTP edges (``/validate/*`` in ``validate.py``; ``POST /auth``, ``/ui/login`` and the other
REST calls without a JWT in ``rest.py``) hold back every answer but an acceptance or a
challenge until the floor, measured from the request's start. The
wait is a reactor timer: no thread is held and the reactor never blocks, so a flood of
failures costs no more threads than before. RADIUS and PAM answer rejects at once (their
clients retransmit on a timer and fail counters already limit guessing there).

The floor must exceed the slowest failure path (an argon2 admin password or PIN check,
a slow user store); a failure that takes longer is answered when it is done.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import deferLater


class FailureFloor:
    def __init__(self, milliseconds: int, clock: IReactorTime):
        self._seconds = milliseconds / 1000
        self._clock = clock

    def start(self) -> float:
        """The request's start, to pass to ``wait``."""
        return self._clock.seconds()

    def wait(self, started: float) -> Deferred[None]:
        """Fires when the floor after ``started`` has passed (at once if it has)."""
        remaining = started + self._seconds - self._clock.seconds()
        if remaining <= 0:
            return succeed(None)
        return deferLater(self._clock, remaining, lambda: None)
