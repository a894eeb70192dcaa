"""``/machine/``, ``/machineresolver/``, ``/application/`` and ``/validate/offlinerefill``:
machines, the tokens attached to them for an application, what a machine fetches for them,
and the refill of an offline host's OTP hashes.

Rights (admin policies): ``machinelist`` to list machines (in any realm: machines are
shared by all realms), ``manage_machine_tokens`` to attach, detach, list and set options
(in every realm of the token; listings show only tokens of the realms the right covers),
``fetch_authentication_items`` for /machine/authitem (only items of tokens of the realms
the right covers), ``mresolverread``/``mresolverwrite``/``mresolverdelete`` for machine
resolvers, which are in no realm (an admin bound to no realm).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Select

from tesserad.admin_web import api
from tesserad.admin_web.authorization import ANY_ADMIN, LISTED, NO_REALM, TOKEN, Access
from tesserad.admin_web.rest import ADMIN_ONLY, PUBLIC, Body, Call, Resource, endpoint
from tesserad.core.machines import authitems, offline, service
from tesserad.core.token_access import TokenAccess
from tesserad.core.tokens.service import TokenFilter

# Parameters that name the machine, the token and the application; the rest are options.
_NAMING = frozenset({"hostname", "machineid", "resolver", "serial", "application"})
VALIDATE_ID = 2


def _machine(call: Call) -> dict[str, str | None]:
    return {"hostname": call.params.text("hostname", max_length=255) or None,
            "machine_id": call.params.text("machineid", max_length=255) or None,
            "resolver": call.params.text("resolver", max_length=service.MAX_NAME) or None}


def _options(call: Call) -> dict[str, str]:
    return {key: value for key, value in call.params.texts().items() if key not in _NAMING}


def _checked_serial(call: Call) -> str:
    serial = call.params.required("serial", max_length=40)
    TokenAccess(call.session, call.ctx, call.rights).get(serial, "manage_machine_tokens")
    call.audit["serial"] = serial
    return serial


def _visible_tokens(call: Call, action: str) -> Select[Any] | None:
    """The ids of the tokens in the realms where the admin has ``action`` (None: all)."""
    call.require_somewhere(action)
    realms = call.rights.realms(action, call.realm_names())
    return None if realms is None else call.ctx.tokens.ids(TokenFilter(visible_realms=realms))


def _path_machine(machineid: str, resolver: str) -> dict[str, str | None]:
    """Path segments of DELETE: ``None`` for both names an attachment for every machine."""
    if machineid == "None" and resolver == "None":
        return {"machine_id": None, "resolver": None}
    return {"machine_id": machineid, "resolver": resolver}


class MachineResource(Resource):
    @endpoint("GET", "/machine/", roles=ADMIN_ONLY, access=Access("machinelist", "any one realm (machines are "
                                                                             "shared by every realm)"))
    def list(self, call: Call) -> Any:
        """Machines of all machine resolvers, filtered by hostname, ip, id, resolver or any."""
        call.require_somewhere("machinelist")
        params = call.params
        machines = service.list_machines(
            call.session, hostname=params.text("hostname", max_length=255), ip=params.text("ip", max_length=64),
            machine_id=params.text("id", max_length=255), resolver=params.text("resolver", max_length=64),
            any_field=params.text("any", max_length=255))
        return [machine.as_dict() for machine in machines]

    @endpoint("POST", "/machine/token", roles=ADMIN_ONLY, access=Access("manage_machine_tokens", TOKEN))
    def attach(self, call: Call) -> Any:
        """Attach a token to a machine (hostname, or machineid and resolver; neither: every
        machine) for an application; other parameters are the application's options."""
        serial = _checked_serial(call)
        app = call.params.required("application", max_length=32)
        call.audit["info"] = f"serial: {serial}, application: {app}"
        return service.attach(call.session, serial, app, _options(call), **_machine(call))

    @endpoint("GET", "/machine/token", roles=ADMIN_ONLY, access=Access(
        "manage_machine_tokens", f"with ``serial``: {TOKEN}; without: {LISTED}"))
    def attachments(self, call: Call) -> Any:
        """The attachments of a token (serial) or of a machine, optionally of one application."""
        serial = call.params.text("serial", max_length=40)
        tokens = None
        if serial:
            _checked_serial(call)
        else:
            tokens = _visible_tokens(call, "manage_machine_tokens")
        return service.list_attachments(call.session, serial=serial,
                                        application_name=call.params.text("application", max_length=32),
                                        tokens=tokens, **_machine(call))

    @endpoint("DELETE", "/machine/token/<serial>/<machineid>/<resolver>/<application>", roles=ADMIN_ONLY,
              access=Access("manage_machine_tokens", TOKEN))
    def detach(self, call: Call, serial: str, machineid: str, resolver: str, application: str) -> Any:
        """Detach a token from a machine (``None/None`` for the attachment to every machine)."""
        TokenAccess(call.session, call.ctx, call.rights).get(serial, "manage_machine_tokens")
        call.audit.update(serial=serial, info=f"application: {application}")
        return service.detach(call.session, serial, application, **_path_machine(machineid, resolver))

    @endpoint("POST", "/machine/tokenoption", roles=ADMIN_ONLY, access=Access("manage_machine_tokens", TOKEN))
    def tokenoption(self, call: Call) -> Any:
        """Set options of an attachment; an empty value deletes the option."""
        serial = _checked_serial(call)
        app = call.params.required("application", max_length=32)
        added, deleted = service.set_options(call.session, serial, app, _options(call), **_machine(call))
        return {"added": added, "deleted": deleted}

    @endpoint("GET", "/machine/authitem", roles=ADMIN_ONLY, access=Access("fetch_authentication_items", LISTED))
    def authitems(self, call: Call) -> Any:
        """Items of every application for the machine ``hostname`` (``challenge``: hex, luks)."""
        return _authitems(call, None)

    @endpoint("GET", "/machine/authitem/<application>", roles=ADMIN_ONLY,
              access=Access("fetch_authentication_items", LISTED))
    def authitems_of(self, call: Call, application: str) -> Any:
        """Items of one application for the machine ``hostname``."""
        return _authitems(call, application)

    @endpoint("POST", "/validate/offlinerefill", roles=PUBLIC, request_id=VALIDATE_ID)
    def offlinerefill(self, call: Call) -> Any:
        """New offline OTP hashes for a host that proves the use of one (serial, refilltoken,
        pass = PIN + the offline value used)."""
        serial = call.params.required("serial", max_length=40)
        refilltoken = call.params.required("refilltoken", max_length=256)
        password = call.params.required("pass", max_length=4096)
        call.audit["serial"] = serial
        items = offline.refill(call.session, serial, refilltoken, password, call.ctx.tokens.env(call.session))
        body = api.envelope({"status": True, "value": True}, None, VALIDATE_ID)
        body["auth_items"] = items
        return Body(json.dumps(body, separators=(",", ":")), "application/json; charset=utf-8")


def _authitems(call: Call, application: str | None) -> Any:
    tokens = _visible_tokens(call, "fetch_authentication_items")
    hostname = call.params.required("hostname", max_length=255)
    call.audit["info"] = f"hostname: {hostname}, application: {application or 'all'}"
    return authitems.authentication_items(
        call.session, lambda serial: call.ctx.tokens.get(call.session, serial), hostname, application,
        call.params.text("challenge", max_length=512) or None, tokens)


class ApplicationResource(Resource):
    @endpoint("GET", "/application/", roles=ADMIN_ONLY, access=Access(ANY_ADMIN, "none (fixed definitions)"))
    def list(self, call: Call) -> Any:
        """The machine applications and their options."""
        return authitems.applications()


class MachineResolverResource(Resource):
    @endpoint("GET", "/machineresolver/", roles=ADMIN_ONLY, access=Access("mresolverread", NO_REALM))
    def list(self, call: Call) -> Any:
        """All machine resolvers (of ``type``)."""
        call.require("mresolverread")
        return service.list_resolvers(call.session, call.params.text("type", max_length=32))

    @endpoint("GET", "/machineresolver/<resolver>", roles=ADMIN_ONLY, access=Access("mresolverread", NO_REALM))
    def get(self, call: Call, resolver: str) -> Any:
        """One machine resolver's definition."""
        call.require("mresolverread")
        return {resolver: service.get_resolver(call.session, resolver)}

    @endpoint("POST", "/machineresolver/test", roles=ADMIN_ONLY, access=Access("mresolverwrite", NO_REALM))
    def test(self, call: Call) -> Any:
        """Whether a definition works (the hosts file can be read)."""
        call.require("mresolverwrite")
        works, message = service.test_resolver(call.params.required("type", max_length=32), call.params.texts())
        call.detail["description"] = message
        return works

    @endpoint("POST", "/machineresolver/<resolver>", roles=ADMIN_ONLY, access=Access("mresolverwrite", NO_REALM))
    def save(self, call: Call, resolver: str) -> Any:
        """Create a machine resolver or update the settings given (``type``: hosts; ``filename``)."""
        call.require("mresolverwrite")
        call.audit["info"] = f"machine resolver {resolver}"
        return service.save_resolver(call.session, resolver, call.params.text("type", max_length=32),
                                     call.params.texts())

    @endpoint("DELETE", "/machineresolver/<resolver>", roles=ADMIN_ONLY, access=Access("mresolverdelete", NO_REALM))
    def delete(self, call: Call, resolver: str) -> Any:
        """Delete a machine resolver that no attachment uses."""
        call.require("mresolverdelete")
        call.audit["info"] = f"machine resolver {resolver}"
        return service.delete_resolver(call.session, resolver)
