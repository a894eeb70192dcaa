"""The REST API in memory: the real site (Root, Rest, every resource) over the wired core,
driven through twisted.web with treq's StubTreq, the core executor run inline.

``api`` (a fixture) logs callers in by minting their JWT (``api.admin()``, ``api.user("bob")``)
or through ``POST /auth``, and sends requests with ``api.call(method, path, token, ...)``,
which returns (HTTP status, decoded JSON).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from treq.testing import StubTreq
from twisted.internet.defer import Deferred

from tesserad.admin_web.config import WebSection
from tesserad.admin_web.health import Health
from tesserad.admin_web.rest import Rest
from tesserad.admin_web.site import Root, build_site
from tesserad.core import admins
from tesserad.core.context import Context
from tesserad.core.policy.store import PolicyStore
from tesserad.core.security.keystore import Keys
from tesserad.core.security.signing import Signer
from tesserad.core.sessions import ADMIN, USER, Identity
from tesserad.daemon.config import Config

from tests.helpers import run_inline
from tests.wired import Core


def resolved(d: Deferred[Any]) -> Any:
    """The result of a Deferred that has fired already (the executor runs inline)."""
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the request did not complete synchronously"
    if hasattr(results[0], "raiseException"):
        results[0].raiseException()
    return results[0]


@dataclasses.dataclass
class Api:
    core: Core
    ctx: Context
    rest: Rest
    http: StubTreq

    def token(self, identity: Identity) -> str:
        """A JWT as ``POST /auth`` issues it (a local admin's with its account generation)."""
        with self.core.database.session() as session:
            return self.rest.sessions.issue(self.rest.sessions.stamped(session, identity), [])

    def admin(self, name: str = "admin", realm: str = "") -> str:
        """A JWT of a local admin (realm "", created if missing) or of an admin from a superuser realm."""
        if not realm:
            with self.core.database.session() as session:
                if not admins.exists(session, name):
                    admins.add(session, self.core.tokens.hasher, name, secrets.token_urlsafe(16), clock=self.core.clock)
                    session.commit()
        return self.token(Identity(ADMIN, name, realm))

    def user(self, login: str, realm: str = "example") -> str:
        with self.core.database.session() as session:
            user = self.core.directory.find_user(session, login, realm)
        return self.token(Identity(USER, user.login, user.realm, user.resolver, user.uid))

    def call(self, method: str, path: str, token: str | None = None, params: dict[str, Any] | None = None, *,
             body: Any = None, raw: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """``params`` go as query string for GET/DELETE and as a form otherwise; ``body`` as
        JSON; ``raw`` as is (with ``headers`` saying what it is)."""
        sent = dict(headers or {})
        if token is not None:
            sent.setdefault("Authorization", token)
        url = f"http://localhost{path}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        elif params is not None and method in ("GET", "DELETE"):
            url += "?" + urlencode(params)
        elif params is not None:
            data = urlencode(params).encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        response = resolved(self.http.request(method, url, data=data, headers=sent))
        content = resolved(response.content())
        return response.code, json.loads(content) if content else None

    def policy(self, name: str, **fields: Any) -> None:
        with self.core.database.session() as session:
            self.ctx.policies.set_policy(session, name, **fields)
            session.commit()

    def configure(self, **web: Any) -> None:
        """Change ``[web]`` settings (superuser realms, login limits) for the next calls."""
        config = self.rest.config
        self.rest.config = dataclasses.replace(config, web=dataclasses.replace(config.web, **web))


@pytest.fixture
def api(core: Core) -> Iterator[Api]:
    keys = Keys(core.tokens.security, b"p" * 32, Signer.generate(), Signer.generate())
    # No failure floor: the requests complete synchronously (tests/http/test_failure_floor.py times it).
    config = Config(web=WebSection(failure_floor_ms=0))
    ctx = Context(config, core.database, keys, core.tokens.hasher, core.clock,
                  core.sysconfig, core.directory,
                  core.tokens, PolicyStore(core.clock), core.auditor, core.auth.engine, core.auth, core.outbox)
    root = Root(Health(run_inline, lambda: None))
    rest = root.attach(run_inline, ctx, config)
    yield Api(core, ctx, rest, StubTreq(build_site(root).resource))
