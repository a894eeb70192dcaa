"""``python -m tesserad.daemon.worker``: one worker process under ``daemon.supervisor``.

Not for direct use: it expects the file descriptors its supervisor sets up (see
``daemon.supervisor``) and the sockets it bound, described in ``--ports``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any

from twisted.internet import main as twisted_main
from twisted.internet.interfaces import IReadDescriptor
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from tesserad.core.errors import TesseraError
from tesserad.daemon import config as configuration
from tesserad.daemon.listeners import InheritedPort
from tesserad.daemon.logs import LogController
from tesserad.daemon.supervisor import CONTROL_FD, STATUS_FD

log = Logger(namespace="tesserad.worker")


@implementer(IReadDescriptor)
class SupervisorWatch:
    """Reads the control pipe: only the supervisor holds its other end, so end of file
    means the supervisor is gone and this worker must not outlive it."""

    def __init__(self, reactor: Any):
        self._reactor = reactor

    def fileno(self) -> int:
        return CONTROL_FD

    def doRead(self) -> object:
        return None if os.read(CONTROL_FD, 512) else twisted_main.CONNECTION_DONE

    def connectionLost(self, reason: Failure) -> None:
        if self._reactor.running:
            log.warn("the supervisor is gone; stopping")
            self._reactor.stop()

    def logPrefix(self) -> str:
        return "supervisor-watch"


def report(state: str) -> None:
    """Readiness for the supervisor, one state per line on the status pipe."""
    try:
        os.write(STATUS_FD, state.encode() + b"\n")
    except OSError:
        pass  # the supervisor is gone; the control pipe stops this worker


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tesserad-worker", description=__doc__)
    p.add_argument("--config")
    p.add_argument("--slot", type=int, required=True)
    p.add_argument("--ports", required=True, help="JSON list of inherited listening sockets")
    args = p.parse_args(argv)
    # Until run() installs the reload handler, a SIGHUP must not end the worker; the
    # supervisor sends it again once the worker is ready.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        config = configuration.load(args.config)
    except TesseraError as exc:
        print(f"tesserad worker {args.slot}: {exc}", file=sys.stderr, flush=True)
        return 2
    from twisted.internet import reactor

    from tesserad.daemon.main import run
    from tesserad.daemon.service import Daemon

    logs = LogController(config.log.level, config.log.format, worker=args.slot)
    logs.begin()
    inherited = [InheritedPort(**item) for item in json.loads(args.ports)]
    daemon = Daemon(reactor, config, logs, inherited=inherited, notifier=report)
    try:
        daemon.prepare()
    except TesseraError as exc:
        log.error("worker {slot} cannot start: {reason}", slot=args.slot, reason=str(exc))
        return 2
    reactor.addReader(SupervisorWatch(reactor))
    return run(reactor, daemon, args.config)


if __name__ == "__main__":
    sys.exit(main())
