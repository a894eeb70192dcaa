"""An agent process for the tests: UpstreamAuthenticator over a tesserad config's ``[pam]``,
driven by JSON lines on standard input (``{"op": "auth", "user": ..., "password": ...}`` or
``{"op": "settle"}``), one JSON answer line each on standard output."""

from __future__ import annotations

import json
import sys
from typing import Any

from twisted.internet import reactor, stdio, threads
from twisted.internet.defer import Deferred
from twisted.protocols.basic import LineReceiver

from tesserad.daemon import config as configuration
from tesserad.pam_module.agent import UpstreamAuthenticator
from tesserad.pam_module.request import PamReply, PamRequest


class Commands(LineReceiver):
    delimiter = b"\n"

    def __init__(self, agent: UpstreamAuthenticator):
        self.agent = agent

    def lineReceived(self, line: bytes) -> None:
        command = json.loads(line)
        if command.pop("op") == "settle":
            self.agent.settle().addBoth(lambda _: self.answer({"settled": True}))
            return
        self.agent.authenticate(PamRequest(**command)).addCallback(self.reply)

    def reply(self, reply: PamReply) -> None:
        self.answer({"outcome": reply.outcome.value, "message": reply.message, "state": reply.state,
                     "extra": reply.extra})

    def answer(self, data: dict[str, Any]) -> None:
        self.sendLine(json.dumps(data).encode())

    def connectionLost(self, reason: Any = None) -> None:
        reactor.stop()  # type: ignore[attr-defined]


def main() -> None:
    pam = configuration.load(sys.argv[1], env={}).pam

    def run(fn: Any, *args: Any) -> Deferred[Any]:
        return threads.deferToThread(fn, *args)
    stdio.StandardIO(Commands(UpstreamAuthenticator.from_config(reactor, pam, run)))
    reactor.run()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
