"""``/tokengroup/``: define, list and delete token groups (privacyIDEA 3.8's tokengroup API).

Token groups belong to no realm, so each call needs its admin right (``tokengroup_list``,
``tokengroup_add``, ``tokengroup_delete``) from a policy bound to no realm (``core.rights``).
Tokens join and leave groups through ``/token/group/...`` (right ``tokengroups``).
"""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import NO_REALM, Access
from tesserad.admin_web.rest import ADMIN_ONLY, Call, Resource, endpoint
from tesserad.core.store.models.base import NAME_LENGTH
from tesserad.core.tokens import groups


class TokenGroupResource(Resource):
    @endpoint("GET", "/tokengroup/", "/tokengroup/<groupname>", roles=ADMIN_ONLY,
              access=Access("tokengroup_list", NO_REALM))
    def list(self, call: Call, groupname: str | None = None) -> Any:
        """The token groups (or the one named): ``{name: {id, description}}``."""
        call.require("tokengroup_list")
        return groups.listed(call.session, groupname)

    @endpoint("POST", "/tokengroup/<groupname>", roles=ADMIN_ONLY, access=Access("tokengroup_add", NO_REALM))
    def save(self, call: Call, groupname: str) -> Any:
        """Define the token group, or change its ``description``; the group's id."""
        call.require("tokengroup_add")
        call.audit["info"] = groupname[:NAME_LENGTH]
        return groups.save(call.session, groupname, call.params.text("description", max_length=NAME_LENGTH))

    @endpoint("DELETE", "/tokengroup/<groupname>", roles=ADMIN_ONLY, access=Access("tokengroup_delete", NO_REALM))
    def delete(self, call: Call, groupname: str) -> Any:
        """Delete the token group; refused while it holds tokens."""
        call.require("tokengroup_delete")
        call.audit["info"] = groupname[:NAME_LENGTH]
        groups.delete(call.session, groupname)
        return True
