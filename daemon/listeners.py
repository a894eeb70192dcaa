"""Stream listeners from Twisted endpoint strings, bound eagerly.

Binding happens before the reactor runs and before anything is created on disk, so a
port in use or a bad endpoint string stops the start cleanly with the config key named.
"""

from __future__ import annotations

from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.python.failure import Failure

from tesserad.core.errors import ConfigError, StartupError


class StreamListeners(Service):
    """The listening ports of one config key (e.g. ``web.listen``)."""

    def __init__(self, reactor: Any, key: str, descriptions: list[str], factory: IProtocolFactory,
                 source: str):
        self._reactor = reactor
        self._key = key
        self._descriptions = descriptions
        self._factory = factory
        self._source = source
        self.ports: list[IListeningPort] = []

    def bind(self) -> None:
        """Listen on every endpoint now; on any failure release what was bound and raise."""
        try:
            for index, description in enumerate(self._descriptions):
                self.ports.append(self._bind_one(f"{self._key}[{index}]", description))
        except Exception:
            for port in self.ports:
                port.stopListening()
            self.ports = []
            raise

    def _bind_one(self, key: str, description: str) -> IListeningPort:
        try:
            endpoint = serverFromString(self._reactor, description)
        except (ValueError, TypeError, KeyError, OSError) as exc:
            raise ConfigError(f"bad endpoint {description!r}: {exc}", path=self._source, key=key) from None
        outcome: list[Any] = []
        endpoint.listen(self._factory).addBoth(outcome.append)
        if not outcome:
            raise StartupError(f"{key}: endpoint {description!r} did not bind at once")
        if isinstance(outcome[0], Failure):
            raise StartupError(f"{key}: cannot listen on {description!r}: {outcome[0].getErrorMessage()}")
        return outcome[0]

    def addresses(self) -> list[Any]:
        return [port.getHost() for port in self.ports]

    def stopService(self) -> Deferred[Any]:
        super().stopService()
        ports, self.ports = self.ports, []
        return DeferredList([maybeDeferred(port.stopListening) for port in ports])
