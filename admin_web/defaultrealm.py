"""``/defaultrealm``: the realm of users who give no realm."""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.rest import Call, Resource, endpoint
from tesserad.admin_web.visibility import visible_realms
from tesserad.core.rights import Target


class DefaultRealmResource(Resource):
    @endpoint("GET", "/defaultrealm")
    def get(self, call: Call) -> Any:
        """``{realm: {default: true, ...}}``, or ``{}`` when there is none (or the caller may
        not see it)."""
        directory = call.ctx.directory
        default = directory.default_realm(call.session)
        visible = visible_realms(call, None)
        if default is None or (visible is not None and default not in visible):
            return {}
        return {default: directory.list_realms(call.session)[default]}

    @endpoint("POST", "/defaultrealm/<realm>")
    def set(self, call: Call, realm: str) -> Any:
        """Make ``realm`` the default realm; answers 1."""
        call.require("resolverwrite", [Target(realm=realm.lower())])
        call.ctx.directory.set_default_realm(call.session, realm)
        call.audit["realm"] = realm.lower()
        return 1

    @endpoint("DELETE", "/defaultrealm")
    def clear(self, call: Call) -> Any:
        """Leave no default realm; answers 1. Needs ``resolverdelete`` in the current default."""
        directory = call.ctx.directory
        current = directory.default_realm(call.session)
        call.require("resolverdelete", [Target(realm=current or "")])
        directory.set_default_realm(call.session, None)
        return 1
