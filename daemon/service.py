"""The daemon: one MultiService owning the core context, the thread pool and the listeners.

Start-up is split in two: ``prepare`` does everything that can fail (bind ports, data
directory, keys, schema, initial admin) before the reactor runs, so failures become a
one-line reason and exit status 2; ``startService`` only starts what was prepared.
Stop is sequential: listeners close first, then in-flight work drains, then the store.
A worker process (see ``daemon.supervisor``) is the same daemon on sockets and a store
that its supervisor already prepared.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from twisted.application.service import MultiService, Service
from twisted.internet.defer import inlineCallbacks, maybeDeferred
from twisted.logger import Logger

from tesserad import __version__
from tesserad.admin_web.health import Health
from tesserad.admin_web.site import Root, build_site
from tesserad.core import bootstrap
from tesserad.core.config import mask_url_password
from tesserad.core.context import Context
from tesserad.daemon.config import Config
from tesserad.daemon.executor import CoreExecutor
from tesserad.daemon.listeners import InheritedPort, StreamListeners
from tesserad.daemon.logs import LogController
from tesserad.daemon.outbox import OutboxSender, build_transports
from tesserad.daemon.reactor_lag import ReactorLag
from tesserad.daemon.sdnotify import notify
from tesserad.pam_module import sockets as pam_sockets
from tesserad.pam_module.agent import UpstreamAuthenticator
from tesserad.pam_module.listener import PamListenerFactory
from tesserad.pam_module.local import LocalAuthenticator
from tesserad.radius.service import RadiusService

# A reload hook applies one config section anew: it gets the old and the new config and
# returns what it changed.
ReloadHook = Callable[[Config, Config], list[str]]
# Where readiness goes: systemd's notify socket, or a worker's pipe to its supervisor.
Notifier = Callable[[str], object]


def prepare_store(config: Config, log: Logger) -> tuple[Context, str | None]:
    """Data directory, keys, schema and the initial admin; returns the open context and the
    initial admin's password when it was created now."""
    bootstrap.ensure_data_dir(config.data_dir)
    if bootstrap.ensure_keys(config.key_dir):
        log.info("generated new keys in {key_dir}", key_dir=str(config.key_dir))
    context = Context.open(config)
    try:
        done = bootstrap.prepare_schema(context.database, auto_upgrade=config.database.auto_upgrade)
        if done != "current":
            log.info("database schema {done} ({url})", done=done, url=context.database.url)
        with context.database.session() as session:
            for line in context.policies.unsupported_report(session):
                log.warn("{line}", line=line)
        return context, bootstrap.ensure_initial_admin(context)
    except Exception:
        context.close()
        raise


class Daemon(MultiService):
    log = Logger()

    def __init__(self, reactor: Any, config: Config, logs: LogController,
                 environ: dict[str, str] | None = None, *, inherited: list[InheritedPort] | None = None,
                 notifier: Notifier | None = None):
        super().__init__()
        self.reactor = reactor
        self.config = config
        self.logs = logs
        self.inherited = inherited
        self.notify: Notifier = notifier or (lambda state: notify(state, environ))
        self.exit_status = 0
        self.context: Context | None = None
        self.executor = CoreExecutor(reactor, config.server.threads, config.server.shutdown_grace)
        self.lag = ReactorLag(reactor, config.server.reactor_lag_warn_ms)
        self.web: StreamListeners | None = None
        self.pam: StreamListeners | None = None
        self.radius = RadiusService(reactor, config, reuse_port=inherited is not None)
        self.root: Root | None = None
        self.outbox: OutboxSender | None = None
        self.reload_hooks: dict[str, ReloadHook] = {"log": self._reload_logging, "radius": self.radius.reload}

    def prepare(self) -> str | None:
        """Bind, create and migrate; returns the initial admin password on a first start.
        A worker adopts its supervisor's sockets and only checks that the schema is current."""
        config = self.config
        self.executor.setServiceParent(self)
        self.lag.setServiceParent(self)
        self.root = Root(Health(self.executor.run, self._ping, self.lag.health))
        self.web = StreamListeners(self.reactor, "web.listen", config.web.listen, build_site(self.root),
                                   config.source)
        password = None
        if self.inherited is None:
            bootstrap.check_writable(config.data_dir)
            self.web.bind()
            try:
                self.radius.bind()
                self.context, password = prepare_store(config, self.log)
                # After the store: the default socket lives in the data directory.
                self.pam = self._pam_listeners(self.context)
                pam_sockets.bind(self.pam, self.reactor, config.pam)
            except Exception:
                self.radius.release()
                self.web.stopService()
                if self.pam is not None:
                    self.pam.stopService()
                if self.context is not None:
                    self.context.close()
                raise
        else:
            self.context = Context.open(config)
            bootstrap.prepare_schema(self.context.database, auto_upgrade=False)
            self.web.adopt([port for port in self.inherited if port.key.startswith("web.listen")])
            # Every worker accepts on the PAM sockets the supervisor bound, as on the web ports.
            self.pam = self._pam_listeners(self.context)
            self.pam.adopt([port for port in self.inherited if port.key.startswith("pam.listen")])
            self.radius.bind()  # each worker its own sockets, with SO_REUSEPORT
        self.root.attach(self.executor.run, self.context, self.config)
        self.outbox = self._outbox_sender(self.context)
        self.outbox.setServiceParent(self)
        self.radius.attach(self.executor.run, self.context)
        self.web.setServiceParent(self)
        self.radius.setServiceParent(self)
        self.pam.setServiceParent(self)
        return password

    def _outbox_sender(self, context: Context) -> OutboxSender:
        """Every process sends: the outbox's leases give each message to one of them."""
        box = self.config.outbox
        return OutboxSender(self.reactor, self.executor.run, context.database, context.outbox,
                            build_transports(self.reactor, box, self.config.sms),
                            poll_interval=box.poll_interval_ms / 1000,
                            batch=box.batch, per_channel=box.concurrency, keep=timedelta(days=box.keep_days))

    def _pam_listeners(self, context: Context) -> StreamListeners:
        """The PAM socket, served by this daemon's own engine (local mode), or forwarded to
        ``[pam] upstream`` with the offline cache (agent mode)."""
        pam = self.config.pam
        authenticator: LocalAuthenticator | UpstreamAuthenticator = (
            UpstreamAuthenticator.from_config(self.reactor, pam, self.executor.run) if pam.upstream
            else LocalAuthenticator(self.executor.run, context.auth))
        factory = PamListenerFactory.from_config(authenticator, self.reactor, self.config.pam, socket.gethostname())
        return StreamListeners(self.reactor, "pam.listen", self.config.pam.listen, factory, self.config.source)

    def _ping(self) -> None:
        assert self.context is not None
        self.context.database.ping()

    def startService(self) -> None:
        super().startService()
        assert self.web is not None
        if self.inherited is None:
            self.log.info("tesserad {version} serving; web on {web}; data in {data_dir}; database {url}",
                          version=__version__, web=", ".join(str(a) for a in self.web.addresses()),
                          data_dir=str(self.config.data_dir), url=mask_url_password(self.config.database.url))
        self.notify("READY=1")

    @inlineCallbacks
    def stopService(self) -> Any:
        self.notify("STOPPING=1")
        self.log.info("stopping")
        Service.stopService(self)
        for service in reversed(list(self)):
            yield maybeDeferred(service.stopService)
        if self.context is not None:
            self.context.close()
        self.log.info("stopped")

    def reload(self, new: Config) -> list[str]:
        """Apply what can change without a restart; log what needs one."""
        old = self.config
        changes = [change for hook in self.reload_hooks.values() for change in hook(old, new)]
        self.config = dataclasses.replace(old, **{name: getattr(new, name) for name in self.reload_hooks})
        for section in dataclasses.fields(Config):
            name = section.name
            if name != "source" and name not in self.reload_hooks and getattr(old, name) != getattr(new, name):
                self.log.warn("configuration section [{section}] changed; it takes effect after a restart",
                              section=name)
        return changes

    def _reload_logging(self, old: Config, new: Config) -> list[str]:
        return self.logs.apply(new.log.level, new.log.format)
