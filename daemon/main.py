"""``tesserad``: the daemon's entry point.

Exit status: 0 after a clean stop (SIGTERM/SIGINT), 2 when the configuration or the
environment does not allow a start (the reason is printed as one line), 1 otherwise.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import time
from typing import Any

from twisted.internet.error import ReactorNotRunning
from twisted.logger import Logger

from tesserad import __version__
from tesserad.core.errors import TesseraError
from tesserad.daemon import config as configuration
from tesserad.daemon.logs import LogController
from tesserad.daemon.sdnotify import notify

log = Logger(namespace="tesserad.daemon")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tesserad",
        description="Tessera multi-factor authentication server: RADIUS, PAM and a "
                    "privacyIDEA-compatible REST API in one daemon.",
        epilog=f"Without --config it reads ${configuration.CONFIG_ENV}, else "
               f"{configuration.SYSTEM_CONFIG_PATH}, else runs on the embedded default "
               "(SQLite in ./var or $XDG_DATA_HOME/tesserad, loopback only). "
               "Signals: SIGTERM/SIGINT stop gracefully, SIGHUP reloads the log settings and the "
               "RADIUS clients (other sections need a restart).")
    p.add_argument("-c", "--config", metavar="FILE", help="TOML configuration file")
    p.add_argument("--version", action="version", version=f"tesserad {__version__}")
    return p


def fail(message: str) -> int:
    print(f"tesserad: {message}", file=sys.stderr, flush=True)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = configuration.load(args.config)
    except TesseraError as exc:
        return fail(str(exc))
    from twisted.internet import reactor

    from tesserad.daemon.service import Daemon
    from tesserad.daemon.supervisor import Supervisor, worker_count

    logs = LogController(config.log.level, config.log.format)
    logs.begin()
    workers = worker_count(config.server.workers)
    daemon: Daemon | Supervisor
    if workers > 1:
        daemon = Supervisor(reactor, config, logs, args.config, workers, dict(os.environ))
    else:
        daemon = Daemon(reactor, config, logs, dict(os.environ))
    try:
        password = daemon.prepare()
    except TesseraError as exc:
        log.error("cannot start: {reason}", reason=str(exc))
        return fail(str(exc))
    if password is not None:
        announce_initial_admin(password)
    return run(reactor, daemon, args.config)


def announce_initial_admin(password: str) -> None:
    """The one time the initial password is shown: on stdout, never in the log."""
    log.info("created the initial administrator 'admin'; its password is printed on stdout once")
    print(f"Initial administrator: admin\nPassword: {password}\n"
          "This password is shown only now. Change it with: tesserad-manage admin passwd admin",
          flush=True)


def stop_on_signals(reactor: Any) -> None:
    """SIGTERM and SIGINT stop the reactor, once. Twisted's own handlers call
    ``reactor.stop`` for every signal, and systemd and make signal the whole process group
    (a worker hears its supervisor too): a second signal while the first still drained the
    in-flight work was a ReactorNotRunning traceback at critical level."""
    def stop(signum: int) -> None:
        name = signal.Signals(signum).name
        try:
            reactor.stop()
        except ReactorNotRunning:
            log.info("received {signal} while stopping already", signal=name)
            return
        log.info("received {signal}; stopping", signal=name)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: reactor.callFromThread(stop, number))


def run(reactor: Any, daemon: Any, config_path: str | None) -> int:
    """Run until stopped; 0 after a clean stop, 1 if the services failed to start."""
    status = [0]

    def start() -> None:
        stop_on_signals(reactor)  # here: Twisted installs its handlers as the reactor starts
        try:
            daemon.startService()
        except Exception:
            log.failure("services failed to start")
            status[0] = 1
            reactor.stop()
            return
        # What startup built (modules, configuration, caches) lives as long as the process:
        # keep it out of the collector's full passes, which otherwise walk all of it with
        # the GIL held, tens of milliseconds that showed as the RADIUS replies' p99.
        gc.freeze()

    def reload() -> None:
        try:
            new = configuration.load(config_path)
        except TesseraError as exc:
            log.error("reload refused, keeping the running configuration: {reason}", reason=str(exc))
            return
        # systemd's Type=notify-reload protocol: RELOADING=1 with a timestamp, then READY=1.
        notify(f"RELOADING=1\nMONOTONIC_USEC={time.monotonic_ns() // 1000}")
        changes = daemon.reload(new)
        log.info("reloaded configuration: {changes}", changes="; ".join(changes) or "nothing to apply")
        notify("READY=1")

    signal.signal(signal.SIGHUP, lambda *_: reactor.callFromThread(reload))
    reactor.addSystemEventTrigger("before", "shutdown", daemon.stopService)
    reactor.callWhenRunning(start)
    reactor.run()
    return status[0] or daemon.exit_status


if __name__ == "__main__":
    sys.exit(main())
