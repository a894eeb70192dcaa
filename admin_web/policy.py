"""``/policy/``: policies written, listed, switched, checked, exported and imported, and the
action definitions the UI builds its forms from.

Policies are in no realm, and a policy can grant anything anywhere: ``policyread``,
``policywrite`` and ``policydelete`` count only for an admin bound to no realm (privacyIDEA
lets an admin of one realm write policies, and so grant itself every realm). The action
definitions are the same for everybody and need ``policyread`` in any realm.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tesserad.admin_web.authorization import NO_REALM, Access
from tesserad.admin_web.rest import Body, Call, Resource, endpoint
from tesserad.core.policy.defs import policy_defs
from tesserad.core.policy.model import FIELDS, LIST_FIELDS
from tesserad.core.tokens.base import ParameterError

# Filters of GET /policy/ besides the list attributes.
FILTERS = ("name", "scope", "action", *LIST_FIELDS)
FILENAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
DEFINITIONS = "any one realm (the definitions are the same for every admin)"


def _fields(call: Call) -> dict[str, Any]:
    """The policy attributes given, with their JSON types; ``conditions`` may also come as
    JSON text (form requests)."""
    fields = {key: call.params[key] for key in FIELDS if key in call.params}
    if isinstance(fields.get("conditions"), str):
        try:
            fields["conditions"] = json.loads(fields["conditions"] or "[]")
        except ValueError:
            raise ParameterError("parameter conditions must be a JSON list of "
                                 "[section, key, comparator, value, active]") from None
    return fields


def _switch(call: Call, name: str, active: bool) -> int:
    call.require("policywrite")
    call.audit["info"] = f"policy {name}"
    return call.ctx.policies.enable_policy(call.session, name, active)


def filename(name: str) -> str:
    """A file name safe for a Content-Disposition header."""
    if not FILENAME.fullmatch(name):
        raise ParameterError("the file name may have letters, digits, '_', '-' and '.' (at most 100)")
    return name


class PolicyResource(Resource):
    @endpoint("GET", "/policy/", access=Access("policyread", NO_REALM))
    def list(self, call: Call) -> Any:
        """The policies, strongest first; filtered by ``name``, ``scope``, ``active``,
        ``realm``, ``resolver``, ``user``, ``adminrealm``, ``adminuser``, ``pinode``,
        ``action`` and ``client``."""
        call.require("policyread")
        filters = {key: call.params.text(key) for key in FILTERS if call.params.text(key)}
        active = call.params.flag("active") if call.params.text("active") else None
        return call.ctx.policies.get_policies(call.session, active=active, **filters)

    @endpoint("GET", "/policy/<name>", access=Access("policyread", NO_REALM))
    def get(self, call: Call, name: str) -> Any:
        """The policy ``name`` (a list of one, or empty)."""
        call.require("policyread")
        return call.ctx.policies.get_policies(call.session, name=name)

    @endpoint("POST", "/policy/<name>", access=Access("policywrite", NO_REALM))
    def save(self, call: Call, name: str) -> Any:
        """Create or change a policy: ``scope``, ``action`` (``a, b=value``), ``realm``,
        ``resolver``, ``user``, ``adminrealm``, ``adminuser``, ``client``, ``time``,
        ``pinode``, ``priority``, ``active``, ``check_all_resolvers``, ``conditions``,
        ``description``; attributes left out keep their value. Answers
        ``{"setPolicy <name>": id}``."""
        call.require("policywrite")
        fields = _fields(call)
        call.audit["info"] = f"policy {name}: {', '.join(sorted(fields))}"
        return {f"setPolicy {name}": call.ctx.policies.set_policy(call.session, name, **fields)}

    @endpoint("POST", "/policy/enable/<name>", access=Access("policywrite", NO_REALM))
    def enable(self, call: Call, name: str) -> Any:
        """Switch the policy on; answers its id."""
        return _switch(call, name, True)

    @endpoint("POST", "/policy/disable/<name>", access=Access("policywrite", NO_REALM))
    def disable(self, call: Call, name: str) -> Any:
        """Switch the policy off; answers its id."""
        return _switch(call, name, False)

    @endpoint("DELETE", "/policy/<name>", access=Access("policydelete", NO_REALM))
    def delete(self, call: Call, name: str) -> Any:
        """Delete the policy; answers the id it had."""
        call.require("policydelete")
        call.audit["info"] = f"policy {name}"
        return call.ctx.policies.delete_policy(call.session, name)

    @endpoint("GET", "/policy/check", access=Access("policyread", NO_REALM))
    def check(self, call: Call) -> Any:
        """Whether a policy of ``scope`` grants ``action`` for ``user``, ``realm``,
        ``resolver`` and ``client``: ``{allowed, policy: [...]}`` or ``{allowed: false, info}``."""
        call.require("policyread")
        params = call.params
        return call.ctx.policies.check(
            call.session, scope=params.required("scope"), action=params.required("action"),
            user=params.text("user") or None, realm=params.text("realm") or None,
            resolver=params.text("resolver") or None, client=params.text("client") or None,
            node=call.rest.node)

    @endpoint("GET", "/policy/defs", access=Access("policyread", DEFINITIONS))
    def defs(self, call: Call) -> Any:
        """Every scope's actions: ``{scope: {action: {type, desc, group[, value, multiple]}}}``."""
        call.require_somewhere("policyread")
        return policy_defs(None, [call.rest.node])

    @endpoint("GET", "/policy/defs/<scope>", access=Access("policyread", DEFINITIONS))
    def scope_defs(self, call: Call, scope: str) -> Any:
        """One scope's actions; ``conditions`` gives the condition sections and comparators,
        ``pinodes`` the node names."""
        call.require_somewhere("policyread")
        return policy_defs(scope, [call.rest.node])

    @endpoint("GET", "/policy/export/<export>", access=Access("policyread", NO_REALM))
    def export(self, call: Call, export: str) -> Any:
        """All policies as a JSON file (tesserad's format, read back by import)."""
        call.require("policyread")
        return Body(call.ctx.policies.export_policies(call.session), "application/json", filename(export))

    @endpoint("POST", "/policy/import/<name>", access=Access("policywrite", NO_REALM))
    def load(self, call: Call, name: str) -> Any:
        """Import the uploaded ``file`` (tesserad's JSON or privacyIDEA's export); every
        policy is checked before any is written, and an action tesserad does not enforce
        refuses the whole import (every one is named). Answers the number imported."""
        call.require("policywrite")
        call.audit["info"] = f"import {filename(name)}"
        text = call.params.required("file", max_length=1024 * 1024)
        return call.ctx.policies.import_policies(call.session, text).written
