"""Several worker processes on the same ports, and the supervisor that keeps them running.

CPython runs one thread at a time per process, so one process cannot use more than one
core for the engine. With ``server.workers`` above one, ``tesserad`` becomes a small
supervisor: it binds the listening sockets and prepares the store (keys, schema, initial
admin) exactly as a single daemon would, then starts the workers
(``python -m tesserad.daemon.worker``), each a full daemon on the inherited sockets.

- Readiness: the supervisor tells systemd READY=1 once every worker said so on its status
  pipe; a worker that dies before that fails the start.
- A worker that dies later is restarted, at once the first time and then with a backoff
  that grows while it keeps dying (up to 30 s) and resets after a minute of uptime.
- SIGTERM/SIGINT: the workers get SIGTERM, drain, and exit; after their grace period the
  supervisor kills what is left. SIGHUP is checked by the supervisor and passed on.
- A worker whose supervisor is gone (its control pipe closes) stops on its own.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessDone, ProcessExitedAlready
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.protocol import Factory, ProcessProtocol, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from tesserad import __version__
from tesserad.core import bootstrap
from tesserad.core.config import mask_url_password
from tesserad.daemon.config import Config
from tesserad.daemon.listeners import InheritedPort, StreamListeners
from tesserad.daemon.logs import LogController
from tesserad.daemon.sdnotify import notify
from tesserad.daemon.service import prepare_store
from tesserad.pam_module import sockets as pam_sockets
from tesserad.radius.service import check_bindable

# Worker file descriptors: 0 = control pipe (EOF: the supervisor is gone), 1/2 = the
# supervisor's stdout/stderr, 3 = status pipe (READY=1 lines), 4... = listening sockets.
CONTROL_FD = 0
STATUS_FD = 3
FIRST_PORT_FD = 4
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0
# Extra seconds after a worker's own shutdown grace before it is killed.
KILL_MARGIN_S = 5.0


def worker_count(configured: int) -> int:
    """``server.workers``, with 0 meaning one per CPU core this process may use."""
    return configured or len(os.sched_getaffinity(0))


class WorkerProcess(ProcessProtocol):
    """One worker slot's current process: its readiness lines and its end."""

    def __init__(self, supervisor: Supervisor, slot: int):
        self.supervisor = supervisor
        self.slot = slot
        self.ready = False
        self.ended = False
        # A SIGHUP before the worker installed its handler would kill it: hold it until READY.
        self.reload_pending = False
        self._status = b""

    @property
    def pid(self) -> int | None:
        return self.transport.pid if self.transport is not None else None

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if childFD != STATUS_FD:
            return
        self._status += data
        *lines, self._status = self._status.split(b"\n")
        if not self.ready and b"READY=1" in lines:
            self.ready = True
            self.supervisor.worker_ready(self)

    def processEnded(self, reason: Failure) -> None:
        self.ended = True
        self.supervisor.worker_ended(self, reason)

    def signal(self, name: str) -> None:
        try:
            self.transport.signalProcess(name)
        except ProcessExitedAlready:
            pass


class Supervisor(Service):
    """Binds, prepares the store, and runs ``count`` workers; same interface as ``Daemon``
    for ``daemon.main.run``: startService, stopService, reload, exit_status."""

    log = Logger()

    def __init__(self, reactor: Any, config: Config, logs: LogController, config_path: str | None,
                 count: int, environ: dict[str, str]):
        self.reactor = reactor
        self.config = config
        self.logs = logs
        self.config_path = config_path
        self.count = count
        self.environ = environ
        self.exit_status = 0
        placeholder = Factory.forProtocol(Protocol)  # never used: workers accept, not the supervisor
        placeholder.noisy = False
        self.web = StreamListeners(reactor, "web.listen", config.web.listen, placeholder, config.source)
        self.pam = StreamListeners(reactor, "pam.listen", config.pam.listen, placeholder, config.source)
        self.ports: list[InheritedPort] = []
        self.workers: dict[int, WorkerProcess] = {}
        self._started_at: dict[int, float] = {}
        self._failures: dict[int, int] = {}
        self._respawns: dict[int, IDelayedCall] = {}
        self._all_ready = False
        self._stopping = False
        self._stopped: Deferred[None] | None = None
        self._kill_timer: IDelayedCall | None = None

    def prepare(self) -> str | None:
        """Everything that can stop the start, before any worker exists."""
        bootstrap.check_writable(self.config.data_dir)
        self.web.bind()
        try:
            check_bindable(self.config)  # the workers bind the RADIUS sockets themselves
            context, password = prepare_store(self.config, self.log)
        except Exception:
            self.web.stopService()
            raise
        context.close()
        try:
            pam_sockets.bind(self.pam, self.reactor, self.config.pam)
        except Exception:
            self.pam.stopService()
            self.web.stopService()
            raise
        self.ports = self.web.hand_over() + self.pam.hand_over()
        return password

    def startService(self) -> None:
        super().startService()
        for slot in range(self.count):
            self._spawn(slot)

    def _spawn(self, slot: int) -> None:
        self._respawns.pop(slot, None)
        child_fds: dict[int, Any] = {CONTROL_FD: "w", 1: 1, 2: 2, STATUS_FD: "r"}
        handed = []
        for offset, port in enumerate(self.ports):
            child_fds[FIRST_PORT_FD + offset] = port.fd
            handed.append({**port.as_dict(), "fd": FIRST_PORT_FD + offset})
        args = [sys.executable, "-m", "tesserad.daemon.worker", "--slot", str(slot), "--ports", json.dumps(handed)]
        if self.config_path is not None:
            args += ["--config", self.config_path]
        env = {k: v for k, v in self.environ.items() if k not in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
                                                                   "LISTEN_FDNAMES")}
        worker = WorkerProcess(self, slot)
        self.reactor.spawnProcess(worker, sys.executable, args, env=env, path=os.getcwd(), childFDs=child_fds)
        self.workers[slot] = worker
        self._started_at[slot] = self.reactor.seconds()
        self.log.debug("worker {slot} started (pid {pid})", slot=slot, pid=worker.pid)

    def worker_ready(self, worker: WorkerProcess) -> None:
        if worker.reload_pending:
            worker.reload_pending = False
            worker.signal("HUP")
        if self._all_ready or not all(w.ready for w in self.workers.values()):
            return
        self._all_ready = True
        self.log.info("tesserad {version} serving with {count} workers; web on {web}; data in {data_dir}; "
                      "database {url}", version=__version__, count=self.count,
                      web=", ".join(str(a) for a in self.web.addresses()), data_dir=str(self.config.data_dir),
                      url=mask_url_password(self.config.database.url))
        notify("READY=1", self.environ)

    def worker_ended(self, worker: WorkerProcess, reason: Failure) -> None:
        if self._stopping:
            self._check_stopped()
            return
        how = "exited normally" if reason.check(ProcessDone) else reason.getErrorMessage()
        if not self._all_ready:
            self.log.error("worker {slot} (pid {pid}) {how} before it was ready; stopping",
                           slot=worker.slot, pid=worker.pid, how=how)
            self.exit_status = 1
            self.reactor.stop()
            return
        uptime = self.reactor.seconds() - self._started_at[worker.slot]
        failures = 0 if uptime >= STABLE_AFTER_S else self._failures.get(worker.slot, 0) + 1
        self._failures[worker.slot] = failures
        delay = 0.0 if failures <= 1 else min(MAX_BACKOFF_S, 2.0 ** (failures - 2))
        self.log.warn("worker {slot} (pid {pid}) {how}; restarting it in {delay:.0f} s",
                      slot=worker.slot, pid=worker.pid, how=how, delay=delay)
        self._respawns[worker.slot] = self.reactor.callLater(delay, self._spawn, worker.slot)

    def reload(self, new: Config) -> list[str]:
        """Apply the log settings here and pass SIGHUP on: each worker reloads itself."""
        changes = self.logs.apply(new.log.level, new.log.format)
        for worker in self.workers.values():
            if worker.ready and not worker.ended:
                worker.signal("HUP")
            else:
                worker.reload_pending = True
        if new.server.workers != self.config.server.workers:
            self.log.warn("server.workers changed; it takes effect after a restart")
        return changes + [f"signalled {self.count} workers"]

    def stopService(self) -> Deferred[None]:
        super().stopService()
        notify("STOPPING=1", self.environ)
        self.log.info("stopping {count} workers", count=self.count)
        self._stopping = True
        for call in self._respawns.values():
            call.cancel()
        self._respawns.clear()
        for worker in self.workers.values():
            if not worker.ended:
                worker.signal("TERM")
        self._stopped = Deferred()
        self._kill_timer = self.reactor.callLater(self.config.server.shutdown_grace + KILL_MARGIN_S, self._kill)
        self._check_stopped()
        return self._stopped

    def _kill(self) -> None:
        for worker in self.workers.values():
            if not worker.ended:
                self.log.warn("worker {slot} (pid {pid}) did not stop in time; killing it",
                              slot=worker.slot, pid=worker.pid)
                worker.signal("KILL")

    def _check_stopped(self) -> None:
        if self._stopped is None or self._stopped.called:
            return
        if all(worker.ended for worker in self.workers.values()):
            if self._kill_timer is not None and self._kill_timer.active():
                self._kill_timer.cancel()
            self.web.stopService()
            self.pam.stopService()
            self.log.info("stopped")
            self._stopped.callback(None)
