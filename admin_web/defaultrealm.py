"""``/defaultrealm``: the realm of users who give no realm.

Which realm a login without a realm lands in concerns every realm, so setting or clearing
it needs ``resolverwrite`` / ``resolverdelete`` of an admin bound to no realm."""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import ANY_ADMIN, NO_REALM, Access
from tesserad.admin_web.rest import Call, Resource, endpoint
from tesserad.admin_web.visibility import visible_realms


class DefaultRealmResource(Resource):
    @endpoint("GET", "/defaultrealm", access=Access(ANY_ADMIN, "the default realm must be one the admin's "
                                                               "policies name, else the answer is empty"))
    def get(self, call: Call) -> Any:
        """``{realm: {default: true, ...}}``, or ``{}`` when there is none (or the caller may
        not see it)."""
        directory = call.ctx.directory
        default = directory.default_realm(call.session)
        visible = visible_realms(call, None)
        if default is None or (visible is not None and default not in visible):
            return {}
        return {default: directory.list_realms(call.session)[default]}

    @endpoint("POST", "/defaultrealm/<realm>", access=Access("resolverwrite", NO_REALM))
    def set(self, call: Call, realm: str) -> Any:
        """Make ``realm`` the default realm; answers 1."""
        call.require("resolverwrite")
        call.ctx.directory.set_default_realm(call.session, realm)
        call.audit["realm"] = realm.lower()
        return 1

    @endpoint("DELETE", "/defaultrealm", access=Access("resolverdelete", NO_REALM))
    def clear(self, call: Call) -> Any:
        """Leave no default realm; answers 1."""
        call.require("resolverdelete")
        call.ctx.directory.set_default_realm(call.session, None)
        return 1
