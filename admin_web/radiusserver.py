"""``/radiusserver/``: define, list, test and delete the upstream RADIUS servers that
``passthru=<identifier>`` forwards to (privacyIDEA 3.8's radiusserver API).

Definitions belong to no realm, so each call needs ``radiusserver_read`` or
``radiusserver_write`` from a policy bound to no realm (``core.rights``). The shared secret
is write-only: listings never return it, and leaving it out of an update keeps it.
"""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import NO_REALM, Access
from tesserad.admin_web.rest import ADMIN_ONLY, Call, Resource, endpoint
from tesserad.core import radius_servers
from tesserad.core.radius_client import Upstream, authenticate
from tesserad.core.store.models.base import NAME_LENGTH


def _settings(call: Call) -> dict[str, Any]:
    params = call.params
    return {"server": params.required("server", max_length=NAME_LENGTH),
            "port": params.integer("port", 1812, minimum=1, maximum=65535),
            "timeout": params.integer("timeout", 5, minimum=1, maximum=60),
            "retries": params.integer("retries", 3, minimum=0, maximum=10)}


class RadiusServerResource(Resource):
    @endpoint("GET", "/radiusserver/", roles=ADMIN_ONLY, access=Access("radiusserver_read", NO_REALM))
    def list(self, call: Call) -> Any:
        """``{identifier: {server, port, description, timeout, retries}}``; no secrets."""
        call.require("radiusserver_read")
        return radius_servers.listed(call.session)

    @endpoint("POST", "/radiusserver/test_request", roles=ADMIN_ONLY,
              access=Access("radiusserver_write", NO_REALM))
    def test_request(self, call: Call) -> Any:
        """Send ``username``/``password`` to the given server (``secret`` left out: the one
        stored under ``identifier``); True for Access-Accept, False for Access-Reject."""
        call.require("radiusserver_write")
        params = call.params
        secret = params.text("secret")
        if secret:
            settings = _settings(call)
            upstream = Upstream(settings["server"], settings["port"], secret.encode(), settings["timeout"],
                                settings["retries"])
        else:
            upstream = radius_servers.upstream(call.session, call.ctx.keys.security, params.required("identifier"))
        call.audit["info"] = f"{upstream.server}:{upstream.port}"[:NAME_LENGTH]
        return authenticate(upstream, params.required("username"), params.text("password", "") or "")

    @endpoint("POST", "/radiusserver/<identifier>", roles=ADMIN_ONLY, access=Access("radiusserver_write", NO_REALM))
    def save(self, call: Call, identifier: str) -> Any:
        """Define the RADIUS server or replace its settings; its id."""
        call.require("radiusserver_write")
        call.audit["info"] = identifier[:NAME_LENGTH]
        return radius_servers.save(call.session, call.ctx.keys.security, identifier, **_settings(call),
                                   secret=call.params.text("secret"),
                                   description=call.params.text("description", "", max_length=NAME_LENGTH) or "")

    @endpoint("DELETE", "/radiusserver/<identifier>", roles=ADMIN_ONLY,
              access=Access("radiusserver_write", NO_REALM))
    def delete(self, call: Call, identifier: str) -> Any:
        """Delete the RADIUS server definition."""
        call.require("radiusserver_write")
        call.audit["info"] = identifier[:NAME_LENGTH]
        radius_servers.delete(call.session, identifier)
        return True
