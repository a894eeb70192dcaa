"""The authentication-scope actions through the real edges: /validate/check over the
in-memory REST API and RADIUS over pyrad packets, both deciding by stored policies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyrad import packet as rp

from tesserad.core.policy.auth import PolicyAuthPolicies

from tests.http.restapi import Api, api  # noqa: F401  (a fixture)
from tests.radius.conftest import Edge, build_edge
from tests.radius.nas import verified_reply
from tests.wired import Core


@pytest.fixture
def stored(api: Api) -> Api:
    """The REST API with the engine deciding by the stored policies."""
    api.core.auth.engine.policies = PolicyAuthPolicies(api.ctx.policies, "node", directory=api.core.directory)
    return api


def check(api: Api, password: str, user: str = "alice", **params: str) -> dict[str, Any]:
    status, body = api.call("POST", "/validate/check", params={"user": user, "pass": password, **params})
    assert status in (200, 400, 401, 403, 404), (status, body)
    return body


class Radius:
    """The RADIUS port in memory over the core of ``stored``, same policies."""

    def __init__(self, core: Core, api: Api):
        self.edge: Edge = build_edge(core)
        self.api = api

    def ask(self, req: rp.AuthPacket) -> rp.Packet:
        replies = self.edge.send(req.RequestPacket())
        assert len(replies) == 1, replies
        return verified_reply(req, replies[0])


@pytest.fixture
def radius(stored: Api) -> Iterator[Radius]:
    yield Radius(stored.core, stored)
