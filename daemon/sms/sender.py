"""Sends what ``core.sms`` builds, on the reactor: an ``HttpRequest`` through treq (no
thread waits for the gateway), a ``Command`` through ``spawnProcess`` (no shell, an empty
environment, killed at its timeout). The ``Outcome`` says whether the SMS went out and,
when not, why, in words that hold no phone number, text or credential.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import treq
from OpenSSL import SSL
from twisted.internet import error as net_error
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.ssl import CertificateOptions
from twisted.python.failure import Failure
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from tesserad.core.sms.delivery import Command, Delivery, HttpRequest

_MAX_ANSWER = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    sent: bool
    reason: str = ""


@implementer(IOpenSSLClientConnectionCreator)
class _Unchecked:
    def __init__(self) -> None:
        self.context = CertificateOptions(verify=False).getContext()

    def clientConnectionForTLS(self, protocol: Any) -> SSL.Connection:  # noqa: N802 (Twisted's name)
        return SSL.Connection(self.context, None)


@implementer(IPolicyForHTTPS)
class _NoCheck:
    """``CHECK_SSL=no``: TLS without verifying the gateway's certificate."""

    def __init__(self) -> None:
        self.creator = _Unchecked()

    def creatorForNetloc(self, hostname: bytes, port: int) -> _Unchecked:  # noqa: N802 (Twisted's name)
        return self.creator


class _Exit(ProcessProtocol):
    def __init__(self, stdin: bytes, done: Deferred[int]):
        self.stdin = stdin
        self.done = done

    def connectionMade(self) -> None:  # noqa: N802 (Twisted's name)
        assert self.transport is not None
        self.transport.write(self.stdin)
        self.transport.closeStdin()

    def processEnded(self, reason: Failure) -> None:  # noqa: N802 (Twisted's name)
        code = reason.value.exitCode if isinstance(reason.value, net_error.ProcessTerminated) else 0
        self.done.callback(-1 if code is None else code)


class SmsSender:
    """One per daemon; ``trust_root`` (for tests: a test CA) replaces the platform's CAs."""

    def __init__(self, reactor: Any, script_directory: Path, *, trust_root: Any = None):
        self.reactor = reactor
        self.script_directory = script_directory
        pool = HTTPConnectionPool(reactor, persistent=False)
        policy = BrowserLikePolicyForHTTPS(trust_root) if trust_root is not None else BrowserLikePolicyForHTTPS()
        self.checking = Agent(reactor, contextFactory=policy, pool=pool)
        self.trusting = Agent(reactor, contextFactory=_NoCheck(), pool=pool)

    def send(self, delivery: Delivery) -> Deferred[Outcome]:
        if isinstance(delivery, HttpRequest):
            return Deferred.fromCoroutine(self._http(delivery))
        if isinstance(delivery, Command):
            return Deferred.fromCoroutine(self._script(delivery))
        return Deferred.fromCoroutine(self._unsupported(delivery))

    async def _unsupported(self, delivery: Delivery) -> Outcome:
        return Outcome(False, f"no sender for {delivery.describe()}")

    async def _http(self, request: HttpRequest) -> Outcome:
        headers = {}
        for name, value in request.headers:
            headers.setdefault(name.encode(), []).append(value.encode())
        agent = self.checking if request.check_tls else self.trusting
        auth = (request.username, request.password) if request.username else None
        try:
            response = await treq.request(request.method, request.url, headers=headers, data=request.body,
                                          auth=auth, agent=agent, timeout=request.timeout, reactor=self.reactor)
            body = await treq.content(response)
        except Exception as exc:  # connection refused, TLS failure, timeout: a reason, no detail of the request
            return Outcome(False, f"{request.describe()} failed: {type(exc).__name__}")
        if request.accepted(response.code, body[:_MAX_ANSWER].decode("utf-8", "replace")):
            return Outcome(True)
        return Outcome(False, f"{request.describe()} answered {response.code} without success")

    async def _script(self, command: Command) -> Outcome:
        path = self.script_directory / command.script
        if not path.is_file() or not os.access(path, os.X_OK):
            return Outcome(False, f"{command.describe()} is no executable file in {self.script_directory}")
        done: Deferred[int] = Deferred()
        process = self.reactor.spawnProcess(_Exit(command.stdin, done), str(path), [str(path), *command.arguments],
                                            env={}, path=str(self.script_directory))
        killed: list[bool] = []
        timer = self.reactor.callLater(command.timeout, self._kill, process, killed)
        code = await done
        if timer.active():
            timer.cancel()
        if killed:
            return Outcome(False, f"{command.describe()} ran longer than {command.timeout:g} s")
        return Outcome(code == 0, "" if code == 0 else f"{command.describe()} exited with {code}")

    @staticmethod
    def _kill(process: Any, killed: list[bool]) -> None:
        """Past its timeout: killed, and the outcome waits until it is reaped."""
        killed.append(True)
        try:
            process.signalProcess("KILL")
        except net_error.ProcessExitedAlready:
            pass
