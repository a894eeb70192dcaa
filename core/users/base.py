"""The resolver interface every user store implements, and the User the core passes around.

tesserad keeps no user table: a user is a login in a realm, found in one of the realm's
resolvers, and identified durably by (resolver name, user id) so that renaming a login
does not orphan its tokens.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.engine import URL

from tesserad.core.clock import Clock, SystemClock
from tesserad.core.errors import TesseraError, Unavailable

# The user attributes the spec names; resolvers may add their own (custom mappings).
STANDARD_ATTRIBUTES = ("username", "userid", "givenname", "surname", "email", "phone", "mobile",
                       "description")


class UserError(TesseraError):
    """A user or realm cannot be found or used (privacyIDEA error 904)."""


class ResolverError(TesseraError):
    """A resolver is misconfigured, or its user store refused what was asked."""


class UserStoreUnavailable(ResolverError, Unavailable):
    """A user store does not answer (server down or hung, every connection busy, the
    breaker skipping it): the login is not refused but left to another server or a retry."""


@dataclass(frozen=True)
class User:
    """A user as the engine sees it. ``resolver`` and ``uid`` are empty when the login
    was not found in the realm (policies still match on login and realm)."""

    login: str
    realm: str
    resolver: str = ""
    uid: str = ""

    @property
    def exists(self) -> bool:
        return bool(self.resolver and self.uid)

    def __str__(self) -> str:
        return f"{self.login}@{self.realm}" if self.realm else self.login


@dataclass(frozen=True)
class ConfigKey:
    """One resolver setting: its type (str, int, bool, password, json), default and doc."""

    type: str = "str"
    default: Any = None
    required: bool = False
    doc: str = ""


@dataclass
class UserRecord:
    """A user as a resolver returns it: uid, login, and the attribute dict."""

    uid: str
    login: str
    attributes: dict[str, Any] = field(default_factory=dict)


class Resolver(ABC):
    """A connection to one user store. Instances are built from the stored configuration
    (secrets already decrypted), cached per process, and called from worker threads:
    implementations must be thread-safe."""

    rtype: ClassVar[str]
    # The resolver's settings: name -> ConfigKey. Keys not listed are refused.
    config_keys: ClassVar[Mapping[str, ConfigKey]] = {}
    editable: bool = False

    def __init__(self, name: str, config: Mapping[str, Any], *, clock: Clock | None = None):
        """``clock``: the daemon's (injected in tests), for resolvers that cache or back off."""
        self.name = name
        self.config = dict(config)
        self.clock: Clock = clock or SystemClock()

    @abstractmethod
    def uid_for(self, login: str) -> str | None:
        """The user id of ``login``, or None when the store has no such user."""

    @abstractmethod
    def get(self, uid: str) -> UserRecord | None:
        """The user with this id, with its attributes."""

    @abstractmethod
    def search(self, filters: Mapping[str, str] | None = None, *, offset: int = 0,
               limit: int | None = None) -> list[UserRecord]:
        """Users whose attributes match ``filters`` (``*`` wildcards), in a stable order."""

    @abstractmethod
    def check_password(self, uid: str, password: str) -> bool:
        """True when ``password`` is this user's password in the store."""

    def reads_database(self, url: URL) -> bool:
        """Whether this store is the database at ``url`` (tesserad's own is refused)."""
        return False

    def test_connection(self) -> tuple[bool, str]:
        """Check the configuration against the store (``/resolver/test``)."""
        try:
            count = len(self.search(limit=1000))
        except ResolverError as exc:
            return False, str(exc)
        return True, f"Resolver config seems OK. {count} Users found."

    def add_user(self, attributes: Mapping[str, Any]) -> str:
        raise ResolverError(f"resolver {self.name} is not editable")

    def update_user(self, uid: str, attributes: Mapping[str, Any]) -> None:
        raise ResolverError(f"resolver {self.name} is not editable")

    def delete_user(self, uid: str) -> None:
        raise ResolverError(f"resolver {self.name} is not editable")

    def close(self) -> None:  # noqa: B027 (a hook: most resolvers hold no connection)
        """Release connections; called when the configuration changes or on stop."""


RESOLVER_TYPES: dict[str, type[Resolver]] = {}


def register_resolver(cls: type[Resolver]) -> type[Resolver]:
    """Class decorator: make a resolver type available by its ``rtype``."""
    RESOLVER_TYPES[cls.rtype] = cls
    return cls
