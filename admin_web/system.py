"""``/system/``: the system settings, token defaults, the configuration documentation and
random data.

Admins read with ``configread``, write with ``configwrite`` and delete with
``configdelete``, rights that only an admin bound to no realm holds (the settings are in no
realm); users may read the settings of type ``public``. Values of settings of
type ``password`` are stored encrypted, shown as ``__CENSORED__`` and never audited.
"""

from __future__ import annotations

import base64
from typing import Any

from tesserad.admin_web.authorization import NO_REALM, Access
from tesserad.admin_web.rest import ADMIN_OR_USER, Body, Call, Resource, endpoint
from tesserad.core.documentation import documentation
from tesserad.core.sysconfig import TOKEN_DEFAULTS
from tesserad.core.tokens.base import ParameterError

MAX_RANDOM = 1024
ENCODINGS = {"hex": bytes.hex, "b64": lambda data: base64.b64encode(data).decode(),
             "b32": lambda data: base64.b32encode(data).decode()}
# ``<key>.type`` and ``<key>.desc`` qualify the setting ``<key>`` in setConfig.
QUALIFIERS = (".type", ".desc")
PUBLIC_SETTINGS = "none: users see the settings of type public"


def _listing(call: Call) -> dict[str, str]:
    if call.is_admin:
        call.require("configread")
    return call.ctx.sysconfig.listing(call.session, public_only=not call.is_admin)


def _store(call: Call, pairs: dict[str, tuple[str, str, str | None]]) -> dict[str, str]:
    """Write (value, type, description) per key in one transaction; {key: insert|update}."""
    if not pairs:
        raise ParameterError("no settings given")
    call.require("configwrite")
    call.audit["info"] = f"settings: {', '.join(sorted(pairs))}"
    return {key: call.ctx.sysconfig.set(call.session, key, value, type=kind, description=desc)
            for key, (value, kind, desc) in pairs.items()}


class SystemResource(Resource):
    @endpoint("GET", "/system/", roles=ADMIN_OR_USER, access=Access("configread", NO_REALM, PUBLIC_SETTINGS))
    def list(self, call: Call) -> Any:
        """Every setting as text (admins), or the public ones (users)."""
        return _listing(call)

    @endpoint("GET", "/system/<key>", roles=ADMIN_OR_USER, access=Access("configread", NO_REALM, PUBLIC_SETTINGS))
    def get(self, call: Call, key: str) -> Any:
        """The value of one setting, or null."""
        return _listing(call).get(key)

    @endpoint("POST", "/system/setConfig", access=Access("configwrite", NO_REALM))
    def set_config(self, call: Call) -> Any:
        """``key=value`` pairs (``<key>.type=password`` stores it encrypted, ``<key>.desc``
        describes it), or ``key``, ``value``, ``type`` and ``description``; answers
        ``{key: "insert"|"update"}``."""
        params = call.params
        if "key" in params and "value" in params:
            pairs = {params.required("key"): (params.text("value") or "", params.text("type") or "",
                                               params.text("description"))}
        else:
            texts = params.texts()
            pairs = {key: (value, texts.get(f"{key}.type", ""), texts.get(f"{key}.desc"))
                     for key, value in texts.items() if not key.endswith(QUALIFIERS)}
        return _store(call, pairs)

    @endpoint("POST", "/system/setDefault", access=Access("configwrite", NO_REALM))
    def set_default(self, call: Call) -> Any:
        """The defaults of new tokens: any of ``DefaultMaxFailCount``, ``DefaultSyncWindow``,
        ``DefaultCountWindow``, ``DefaultOtpLen``, ``DefaultResetFailCount``,
        ``DefaultChallengeValidityTime``."""
        given = {key: (call.params.required(key), "", None) for key in TOKEN_DEFAULTS if key in call.params}
        if not given:
            raise ParameterError(f"give at least one of {', '.join(TOKEN_DEFAULTS)}")
        return _store(call, given)

    @endpoint("DELETE", "/system/<key>", access=Access("configdelete", NO_REALM))
    def delete(self, call: Call, key: str) -> Any:
        """Delete a stored setting (a known one falls back to its default); whether it existed."""
        call.require("configdelete")
        call.audit["info"] = f"setting: {key}"
        return call.ctx.sysconfig.delete(call.session, key)

    @endpoint("GET", "/system/documentation", access=Access("system_documentation", NO_REALM))
    def documentation(self, call: Call) -> Any:
        """The whole configuration as reStructuredText (secrets censored)."""
        call.require("system_documentation")
        ctx = call.ctx
        return Body(documentation(call.session, ctx.sysconfig, ctx.directory, ctx.policies),
                    "text/plain; charset=utf-8")

    @endpoint("GET", "/system/random", access=Access("getrandom", "any one realm (random bytes are of no realm "
                                                                   "and of nobody)"))
    def random(self, call: Call) -> Any:
        """``len`` random bytes (default 20, at most 1024) from the security module, encoded
        as ``hex`` (default), ``b64`` or ``b32``."""
        call.require_somewhere("getrandom")
        length = call.params.integer("len", 20, minimum=1, maximum=MAX_RANDOM)
        encoding = call.params.text("encode") or "hex"
        if encoding not in ENCODINGS:
            raise ParameterError(f"parameter encode must be one of {', '.join(ENCODINGS)}, not {encoding[:20]!r}")
        return ENCODINGS[encoding](call.ctx.keys.security.random(length))
