"""Connections of one LDAP resolver: servers in failover order, TLS, timeouts, a bounded
pool of service connections and the circuit breaker.

Why it looks like this (privacyIDEA issues #505, #549, #2375, #2669): a hung or dead
directory must cost a login at most the configured timeout and must never take the rest
of the daemon with it. So every socket has a connect and a receive timeout, a server
that failed is skipped for ``SERVERPOOL_SKIP`` seconds, and at most ``POOL_SIZE`` threads
of the core pool work on one resolver at a time; a thread that finds them all busy waits
at most ``POOL_TIMEOUT`` seconds, then fails instead of queueing.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import ldap3
from ldap3.core.exceptions import LDAPCommunicationError, LDAPException, LDAPStartTLSError

from tesserad.core.users.base import ResolverError, UserStoreUnavailable
from tesserad.core.users.ldap_breaker import CircuitBreaker

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_PORTS = {"ldap": 389, "ldaps": 636}
TLS_MINIMUM = {"": [], "1.2": [], "1.3": [ssl.OP_NO_TLSv1_2]}  # Python's default floor is TLS 1.2


@dataclass(frozen=True)
class ServerAddress:
    """One entry of ``LDAPURI``; ``key`` names it in messages and in the breaker."""

    host: str
    port: int
    use_ssl: bool

    @property
    def key(self) -> str:
        return f"{'ldaps' if self.use_ssl else 'ldap'}://{self.host}:{self.port}"


def parse_uris(text: str) -> list[ServerAddress]:
    """``LDAPURI`` as privacyIDEA reads it: a comma list of ``ldap://host[:port]``,
    ``ldaps://host[:port]`` or a bare host (plain LDAP on 389)."""
    servers = []
    for item in (part.strip() for part in str(text or "").split(",")):
        if not item:
            continue
        parsed = urlsplit(item if "://" in item else f"ldap://{item}")
        scheme = parsed.scheme.lower()
        try:
            port = parsed.port
        except ValueError:
            port = -1
        if scheme not in DEFAULT_PORTS or not parsed.hostname or port == -1 or parsed.path not in ("", "/"):
            raise ResolverError(f"LDAPURI: cannot read {item!r}; expected e.g. ldap://dc1.example.com, "
                                "ldaps://dc2.example.com:636 or a host name")
        servers.append(ServerAddress(parsed.hostname, port or DEFAULT_PORTS[scheme], scheme == "ldaps"))
    if not servers:
        raise ResolverError("LDAPURI: missing; give one or more server URIs separated by commas")
    return servers


def tls_settings(*, verify: bool, ca_file: str, version: str) -> ldap3.Tls:
    """The TLS settings for ldaps:// and StartTLS: the CA bundle (or the system's) and the
    server's host name checked unless ``TLS_VERIFY`` is off."""
    if version not in TLS_MINIMUM:
        raise ResolverError(f"TLS_VERSION: {version!r} is not supported; use 1.2 or 1.3 (the minimum version)")
    try:
        return ldap3.Tls(validate=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE,
                         ca_certs_file=ca_file or None, ssl_options=list(TLS_MINIMUM[version]))
    except LDAPException:
        raise ResolverError(f"TLS_CA_FILE: {ca_file} cannot be read") from None


class ServerFailed(Exception):
    """The server cannot serve now (StartTLS refused, busy, unavailable): try the next."""


class BindRefused(Exception):
    """The directory answered a bind with an error (wrong credentials, locked account)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class Credentials:
    user: str | None
    password: str | None
    anonymous: bool = False


class LdapPool:
    """Service connections (bound as ``BINDDN``) for searches and edits, and one-off user
    binds for password checks, over the servers in ``LDAPURI`` order."""

    def __init__(self, resolver: str, servers: list[ServerAddress], service: Credentials, *,
                 tls: ldap3.Tls | None, start_tls: bool, timeout: int, size: int, wait: float,
                 breaker: CircuitBreaker, read_only: bool) -> None:
        self._resolver = resolver
        self._service = service
        self._start_tls = start_tls
        self._timeout = max(int(timeout), 1)
        self._wait = wait
        self._breaker = breaker
        self._read_only = read_only
        self._tls = tls
        self._servers = list(servers)
        self._slots = threading.BoundedSemaphore(max(size, 1))
        self._lock = threading.Lock()
        self._idle: dict[str, list[ldap3.Connection]] = {}
        self._closed = False

    # ---- public operations ----------------------------------------------------------------

    def run(self, what: str, operation: Callable[[ldap3.Connection], T]) -> T:
        """``operation`` on a service connection of the first server that works. The
        operation raises LDAPCommunicationError for a broken server (the next one is
        tried); any other error ends the call."""
        with self._slot(what):
            return self._failover(what, lambda address: self._on_service(address, operation))

    def bind_as(self, dn: str, password: str) -> bool:
        """Whether ``dn`` can bind with ``password`` (the user's own connection, closed at
        once). An empty password is refused here: LDAP would take it as an anonymous bind."""
        if not dn or not password:
            return False
        user = Credentials(dn, password)

        def bind(address: ServerAddress) -> bool:
            try:
                conn = self._open(address, user)
            except BindRefused:
                return False
            self._unbind(conn)
            return True

        with self._slot("checking a password"):
            return self._failover("checking a password", bind)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                self._unbind(conn)

    # ---- failover, breaker and slots ------------------------------------------------------

    @contextlib.contextmanager
    def _slot(self, what: str) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._wait):
            raise UserStoreUnavailable(f"resolver {self._resolver}: {what} failed: all LDAP connections are busy "
                                f"(POOL_SIZE); the directory may be slow or hung")
        try:
            yield
        finally:
            self._slots.release()

    def _failover(self, what: str, attempt: Callable[[ServerAddress], T]) -> T:
        reasons = []
        for address in self._servers:
            if not self._breaker.available(address.key):
                reasons.append(f"{address.key} skipped after a recent failure")
                continue
            try:
                result = attempt(address)
            except (LDAPCommunicationError, LDAPStartTLSError, ServerFailed) as exc:
                self._breaker.failed(address.key)
                reasons.append(f"{address.key}: {_reason(exc)}")
                log.warning("resolver %s: LDAP server %s failed (%s); skipping it for a while",
                            self._resolver, address.key, _reason(exc))
                continue
            self._breaker.succeeded(address.key)
            return result
        raise UserStoreUnavailable(f"resolver {self._resolver}: {what} failed: no LDAP server answered "
                            f"({'; '.join(reasons)})")

    # ---- connections ---------------------------------------------------------------------

    def _on_service(self, address: ServerAddress, operation: Callable[[ldap3.Connection], T]) -> T:
        """Run on an idle connection if there is one; a reused connection that the server
        closed meanwhile (idle timeout) gets one retry on a new connection."""
        conn = self._take_idle(address.key)
        if conn is not None:
            try:
                result = operation(conn)
            except LDAPCommunicationError as exc:
                self._unbind(conn)
                if _timed_out(exc):
                    raise
            else:
                self._give_back(address.key, conn)
                return result
        try:
            conn = self._open(address, self._service)
        except BindRefused as exc:
            raise ResolverError(f"resolver {self._resolver}: {address.key} refused the bind as BINDDN: "
                                f"{exc.description}") from None
        try:
            result = operation(conn)
        except BaseException:
            self._unbind(conn)
            raise
        self._give_back(address.key, conn)
        return result

    def _open(self, address: ServerAddress, credentials: Credentials) -> ldap3.Connection:
        """A connection, TLS started if configured, bound; BindRefused when the directory
        says no. The ldap3 Server is new each time: it remembers failed addresses on its
        own clock, and the breaker decides that here. Referrals are never chased: ldap3
        could only follow them anonymously or by handing the credentials to another server."""
        server = ldap3.Server(address.host, port=address.port, use_ssl=address.use_ssl, tls=self._tls,
                              get_info=ldap3.NONE, connect_timeout=self._timeout)
        conn = ldap3.Connection(
            server, user=credentials.user, password=credentials.password,
            authentication=ldap3.ANONYMOUS if credentials.anonymous else ldap3.SIMPLE,
            auto_bind=ldap3.AUTO_BIND_NONE, client_strategy=ldap3.SYNC, auto_referrals=False,
            raise_exceptions=False, receive_timeout=self._timeout, read_only=self._read_only,
            return_empty_attributes=False)
        try:
            conn.open()
            if self._start_tls and not server.ssl and not conn.start_tls():
                raise ServerFailed(f"StartTLS refused: {conn.result.get('description') if conn.result else ''}")
            if not conn.bind():
                result = conn.result or {}
                if result.get("result") in (None, 0):
                    raise ServerFailed(conn.last_error or "no answer to the bind")
                raise BindRefused(str(result.get("description") or result.get("result")))
        except BaseException:
            self._unbind(conn)
            raise
        return conn

    def _take_idle(self, key: str) -> ldap3.Connection | None:
        with self._lock:
            conns = self._idle.get(key)
            return conns.pop() if conns else None

    def _give_back(self, key: str, conn: ldap3.Connection) -> None:
        with self._lock:
            if not self._closed:
                self._idle.setdefault(key, []).append(conn)
                return
        self._unbind(conn)

    @staticmethod
    def _unbind(conn: ldap3.Connection) -> None:
        with contextlib.suppress(Exception):
            conn.unbind()


def _timed_out(exc: BaseException) -> bool:
    return "timed out" in str(exc).lower()


def _reason(exc: BaseException) -> str:
    """The cause of a server failure in one line, fit for a log or an error message."""
    if _timed_out(exc):
        return "no answer within the timeout"
    if "doesn't match any name" in str(exc):
        return "the server certificate does not name this host (host name check failed)"
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__
