"""``/user/``: users of the realms, and users of editable resolvers created, changed and
deleted in their store.

Admins list the users of the realms their ``userlist`` right covers and edit users with
``adduser`` / ``updateuser`` / ``deleteuser`` in every realm of the resolver. A user sees
only themselves (``userlist``) and may change only their own attributes (``updateuser``).
Passwords go to the resolver, which hashes them; they never reach the audit log.
"""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import LISTED, RESOLVER, Access
from tesserad.admin_web.rest import ADMIN_ONLY, ADMIN_OR_USER, Call, Resource, endpoint
from tesserad.admin_web.visibility import realm_filter, resolver_targets, visible_realms
from tesserad.core.rights import Target
from tesserad.core.tokens.base import ParameterError
from tesserad.core.users import custom_attributes

# Parameters that say who, not what.
WHO = ("user", "resolver", "realm")


def _attributes(call: Call) -> dict[str, str]:
    """The attributes to write: every parameter but ``user``, ``resolver`` and ``realm``."""
    return {key: value for key, value in call.params.texts().items() if key not in WHO}


def _audit(call: Call, login: str, resolver: str, attributes: dict[str, str]) -> None:
    call.audit.update(user=login, resolver=resolver, info=f"attributes: {', '.join(sorted(attributes))}")


class UserResource(Resource):
    @endpoint("GET", "/user/", "/user", roles=ADMIN_OR_USER, access=Access(
        "userlist", f"with ``realm``: that realm; without: {LISTED}", "userlist (own entry only)"))
    def list(self, call: Call) -> Any:
        """Users with their attributes, ``resolver`` and ``editable``. Admins filter by
        ``realm``, ``resolver``, ``user``/``username`` and any attribute (``*`` wildcards);
        without a realm, every realm they may list. A user gets their own entry."""
        call.require_somewhere("userlist")
        directory = call.ctx.directory
        if not call.is_admin:
            me = call.identity.user  # type: ignore[union-attr]
            editable = directory.resolver(call.session, me.resolver).editable
            return [{**directory.user_info(call.session, me), "resolver": me.resolver, "editable": editable}]
        filters = {key: value for key, value in call.params.texts().items() if key not in ("realm", "user")}
        if call.params.text("user"):
            filters["username"] = call.params.text("user") or ""
        realm = call.params.text("realm", max_length=255)
        if realm:
            call.require("userlist", [Target(realm=realm.lower())])
            realms = [realm]
        else:
            realms = realm_filter(visible_realms(call, "userlist"), call.realm_names())
        realm_ids = [realm_id for realm_id in (directory.realm_id(call.session, name) for name in realms)
                     if realm_id is not None]
        return custom_attributes.merged(call.session, realm_ids,
                                        directory.users_of_realms(call.session, realms, filters))

    @endpoint("POST", "/user/", "/user", roles=ADMIN_ONLY, access=Access("adduser", RESOLVER))
    def create(self, call: Call) -> Any:
        """Create ``user`` in the editable ``resolver`` with the given attributes
        (``givenname``, ``surname``, ``email``, ``phone``, ``mobile``, ``password`` ...);
        answers the new user id."""
        login, resolver = call.params.required("user"), call.params.required("resolver")
        call.require("adduser", resolver_targets(call, resolver, login))
        attributes = _attributes(call)
        _audit(call, login, resolver, attributes)
        return call.ctx.directory.add_user(call.session, resolver, {**attributes, "username": login})

    @endpoint("PUT", "/user/", "/user", roles=ADMIN_OR_USER, access=Access(
        "updateuser", RESOLVER, "updateuser (own attributes only)"))
    def update(self, call: Call) -> Any:
        """Change attributes (or the password) of ``user`` in ``resolver``; a user changes
        only their own, whatever ``user`` and ``resolver`` say."""
        if call.is_admin:
            login, resolver = call.params.required("user"), call.params.required("resolver")
            call.require("updateuser", resolver_targets(call, resolver, login))
        else:
            call.require("updateuser")
            me = call.identity.user  # type: ignore[union-attr]
            login, resolver = me.login, me.resolver
        attributes = _attributes(call)
        if not attributes:
            raise ParameterError("no attributes to change")
        if not call.is_admin and "username" in attributes:
            raise ParameterError("a user cannot change their own login name")
        _audit(call, login, resolver, attributes)
        call.ctx.directory.update_user(call.session, resolver, login, attributes)
        return True

    @endpoint("DELETE", "/user/<resolvername>/<username>", roles=ADMIN_ONLY, access=Access("deleteuser", RESOLVER))
    def delete(self, call: Call, resolvername: str, username: str) -> Any:
        """Delete ``username`` from the editable resolver ``resolvername``."""
        call.require("deleteuser", resolver_targets(call, resolvername, username))
        call.audit.update(user=username, resolver=resolvername)
        call.ctx.directory.delete_user(call.session, resolvername, username)
        return True
