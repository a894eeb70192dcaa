"""GET /healthz: version and database reachability, 503 when the store is gone."""

from __future__ import annotations

import json

from treq.testing import StubTreq
from twisted.trial.unittest import TestCase

from tesserad import __version__
from tesserad.admin_web.health import Health
from tesserad.admin_web.site import Root, build_site
from tesserad.core.errors import DatabaseError

from tests.helpers import run_inline


def broken_ping() -> None:
    raise DatabaseError("database unreachable: connection refused")


class HealthTests(TestCase):
    async def get(self, ping):  # type: ignore[no-untyped-def]
        client = StubTreq(build_site(Root(Health(run_inline, ping))).resource)
        response = await client.get("http://localhost/healthz")
        return response.code, json.loads(await response.content())

    async def test_healthy(self) -> None:
        code, body = await self.get(lambda: None)
        self.assertEqual(code, 200)
        self.assertEqual(body, {"status": "ok", "version": __version__, "database": {"reachable": True}})

    async def test_database_down(self) -> None:
        code, body = await self.get(broken_ping)
        self.assertEqual(code, 503)
        self.assertEqual(body["database"], {"reachable": False,
                                            "error": "database unreachable: connection refused"})
