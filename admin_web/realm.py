"""``/realm/``: realms and the resolvers in them, with their priorities.

Admins see the realms their admin policies name (all realms when a matching policy names
none); creating, changing and deleting a realm needs ``resolverwrite`` /
``resolverdelete`` in that realm. A resolver added to a realm brings its users into it
and its realm's users into this one's admins' reach, so adding it needs ``resolverwrite``
in every realm it is in already (in none: an admin bound to no realm).
"""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import ANY_ADMIN, Access
from tesserad.admin_web.params import Params
from tesserad.admin_web.rest import Call, Resource, endpoint
from tesserad.admin_web.visibility import realm_filter, resolver_targets, visible_realms
from tesserad.core.rights import Target
from tesserad.core.tokens.base import ParameterError

PRIORITY = "priority."


def priorities(params: Params) -> dict[str, int]:
    """``priority.<resolver>=<n>`` parameters as {resolver: n}."""
    return {key[len(PRIORITY):]: params.integer(key, 0) for key in params if key.startswith(PRIORITY)}


class RealmResource(Resource):
    @endpoint("GET", "/realm/", access=Access(ANY_ADMIN, "any one realm; shows the realms any of the admin's "
                                                         "policies names (all: a policy bound to no realm)"))
    def list(self, call: Call) -> Any:
        """All realms the caller may see: ``{realm: {default, id, resolver: [{name, type, priority}]}}``."""
        realms = call.ctx.directory.list_realms(call.session)
        return {name: realms[name] for name in realm_filter(visible_realms(call, None), realms)}

    @endpoint("GET", "/realm/superuser", access=Access(ANY_ADMIN, "none (the names come from the config file)"))
    def superuser(self, call: Call) -> Any:
        """The realms whose users are administrators (``[web] superuser_realms``)."""
        return list(call.rest.config.web.superuser_realms)

    @endpoint("POST", "/realm/<realm>", access=Access(
        "resolverwrite", "the realm, and every realm each resolver being added is in (in none: bound to no realm)"))
    def save(self, call: Call, realm: str) -> Any:
        """Create or replace a realm: ``resolvers`` (list or comma-separated) and
        ``priority.<resolver>``; answers the resolvers ``added`` and those that ``failed``
        (they do not exist)."""
        resolvers = call.params.names("resolvers")
        if resolvers is None:
            raise ParameterError("missing parameter: resolvers")
        directory = call.ctx.directory
        members = {r["name"] for r in directory.list_realms(call.session).get(realm.lower(), {}).get("resolver", [])}
        known = directory.list_resolvers(call.session)
        added = [t for name in resolvers if name in known and name not in members
                 for t in resolver_targets(call, name)]
        call.require("resolverwrite", [Target(realm=realm.lower()), *added])
        added, failed = directory.set_realm(call.session, realm, resolvers, priorities(call.params))
        call.audit.update(realm=realm.lower(), info=f"added: {', '.join(added)}; failed: {', '.join(failed)}")
        return {"added": added, "failed": failed}

    @endpoint("DELETE", "/realm/<realm>", access=Access("resolverdelete", "the realm"))
    def delete(self, call: Call, realm: str) -> Any:
        """Delete a realm in which no token is owned; answers 1."""
        call.require("resolverdelete", [Target(realm=realm.lower())])
        call.ctx.directory.delete_realm(call.session, realm)
        call.audit["realm"] = realm.lower()
        return 1
