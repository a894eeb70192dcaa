"""``/resolver/``: the user stores, their settings (secrets shown as ``__CENSORED__``) and a
connection test before saving.

Reading needs ``resolverread``, writing ``resolverwrite`` and deleting ``resolverdelete``,
each in every realm the resolver is in (see ``visibility``). A test runs settings that
are not stored: with the name of a stored resolver it needs what saving them would,
otherwise an admin bound to no realm. Its answer says whether the settings work and, if
not, why, but nothing that the store holds (no user counts). No resolver may read
tesserad's own database (``Directory``).
"""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import LISTED, NO_REALM, RESOLVER, Access
from tesserad.admin_web.rest import Call, Resource, endpoint
from tesserad.admin_web.visibility import resolver_targets, visible_realms

# Parameters of POST /resolver/<name> and /resolver/test that are not settings.
NOT_SETTINGS = ("resolver", "type")
# What a working test says: no counts or other facts of the store.
WORKS = "Resolver config seems OK."


def _visible(call: Call) -> dict[str, dict[str, Any]]:
    """The resolvers the caller may read: those in a realm it may read (all, unbound)."""
    call.require_somewhere("resolverread")
    directory = call.ctx.directory
    resolvers = directory.list_resolvers(call.session, rtype=call.params.text("type") or None,
                                         editable=True if call.params.flag("editable") else None)
    visible = visible_realms(call, "resolverread")
    if visible is None:
        return resolvers
    return {name: r for name, r in resolvers.items()
            if visible.intersection(directory.realms_of_resolver(call.session, name))}


def _settings(call: Call) -> dict[str, Any]:
    return {key: call.params[key] for key in call.params if key not in NOT_SETTINGS}


class ResolverResource(Resource):
    @endpoint("GET", "/resolver/", access=Access("resolverread", LISTED + " (in no realm: bound to no realm)"))
    def list(self, call: Call) -> Any:
        """``{name: {resolvername, type, censor_keys, data}}``; ``type`` and ``editable=1`` filter."""
        return _visible(call)

    @endpoint("GET", "/resolver/<resolver>", access=Access("resolverread", RESOLVER + "; else an empty answer"))
    def get(self, call: Call, resolver: str) -> Any:
        """The one resolver in the same shape, or ``{}``."""
        found = _visible(call).get(resolver)
        return {resolver: found} if found else {}

    @endpoint("POST", "/resolver/<resolver>", access=Access("resolverwrite", RESOLVER))
    def save(self, call: Call, resolver: str) -> Any:
        """Create or update a resolver (``type`` and its settings; an update may leave out the
        type and any setting, ``__CENSORED__`` keeps a stored secret); answers its id."""
        call.require("resolverwrite", resolver_targets(call, resolver))
        resolver_id = call.ctx.directory.save_resolver(call.session, resolver, call.params.text("type") or None,
                                                       _settings(call))
        call.audit.update(resolver=resolver, info=f"settings: {', '.join(sorted(_settings(call)))}")
        return resolver_id

    @endpoint("POST", "/resolver/test", access=Access(
        "resolverwrite", f"with ``resolver``: {RESOLVER}; without: {NO_REALM}"))
    def test(self, call: Call) -> Any:
        """Try settings without saving them: ``value`` true or false, ``detail.description``
        says "Resolver config seems OK." or why not. With ``resolver`` naming a stored
        resolver, ``__CENSORED__`` uses its stored secrets."""
        name = call.params.text("resolver") or None
        call.require("resolverwrite", resolver_targets(call, name) if name else [])
        success, description = call.ctx.directory.test_resolver(
            call.params.required("type"), _settings(call), session=call.session, name=name)
        if success:
            description = WORKS
        call.detail = {"description": description}
        call.audit.update(resolver=name or "", info=description)
        return success

    @endpoint("DELETE", "/resolver/<resolver>", access=Access("resolverdelete", RESOLVER))
    def delete(self, call: Call, resolver: str) -> Any:
        """Delete a resolver that is in no realm; answers the id it had."""
        call.require("resolverdelete", resolver_targets(call, resolver))
        call.audit["resolver"] = resolver
        return call.ctx.directory.delete_resolver(call.session, resolver)
