"""``/token/``: list, enroll and manage tokens (privacyIDEA's token endpoints).

Admins act within the realms their admin policies grant; users on their own tokens only.
Calls by serial act on one token, calls by user (``user``, ``realm``) on all of the user's
tokens, and answer with how many tokens they changed, as the spec says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from tesserad.admin_web.api import MAX_BODY
from tesserad.admin_web.authorization import LISTED, TOKEN, TOKENS, Access
from tesserad.admin_web.rest import ADMIN_ONLY, ADMIN_OR_USER, Body, Call, Resource, endpoint
from tesserad.core.auth import challenges as open_challenges
from tesserad.core.csv_export import csv_line
from tesserad.core.enrollment import Enrollment, random_pin
from tesserad.core.policy.actions import ENROLL
from tesserad.core.rights import PolicyDenied, Target
from tesserad.core.token_access import TokenAccess
from tesserad.core.tokens.base import ParameterError, TokenClass, TokenNotFound
from tesserad.core.tokens.importers import parse
from tesserad.core.tokens.importers.base import options_of
from tesserad.core.tokens.importers.loader import TokenLoader
from tesserad.core.tokens.passkey import ORIGIN_PARAM
from tesserad.core.tokens.registry import token_class
from tesserad.core.tokens.search import token_of_otp
from tesserad.core.tokens.service import MAX_PAGE_SIZE, SORT_COLUMNS, TokenFilter, realm_names
from tesserad.core.users.base import User

SERIAL_LENGTH = 40


def _access(call: Call) -> TokenAccess:
    return TokenAccess(call.session, call.ctx, call.rights)


def _serial(call: Call, serial: str | None, *, required: bool = True) -> str | None:
    serial = serial or call.params.text("serial", max_length=SERIAL_LENGTH)
    if required and not serial:
        raise ParameterError("missing parameter: serial")
    return serial or None


def _audit(call: Call, tokens: list[TokenClass], access: TokenAccess, user: User | None = None) -> None:
    call.audit["serial"] = ",".join(t.serial for t in tokens)
    call.audit["token_type"] = ",".join(sorted({t.type for t in tokens}))
    owner = user or (access.owner(tokens[0]) if tokens else None)
    if owner is not None and call.is_admin:
        call.audit.update(user=owner.login, realm=owner.realm, resolver=owner.resolver)


def _descending(call: Call) -> bool:
    direction = (call.params.text("sortdir", "asc") or "asc").lower()
    if direction not in ("asc", "desc"):
        raise ParameterError("parameter sortdir must be asc or desc")
    return direction == "desc"


def _csv(tokens: list[dict[str, Any]]) -> str:
    """The listed tokens as CSV (``outform=csv``): one column per token key."""
    if not tokens:
        return ""
    return csv_line(list(tokens[0])) + "".join(csv_line(list(token.values())) for token in tokens)


def _page(call: Call) -> tuple[int, int]:
    return (call.params.integer("page", 1, minimum=1),
            call.params.integer("pagesize", 15, minimum=1, maximum=MAX_PAGE_SIZE))


class TokenResource(Resource):
    # ---- listing ---------------------------------------------------------------------------------

    @endpoint("GET", "/token/", roles=ADMIN_OR_USER, access=Access("tokenlist", LISTED, "none: own tokens only"))
    def list(self, call: Call) -> Any:
        """The tokens the caller may see, filtered and paged: ``{tokens, count, current, next, prev}``."""
        params = call.params
        access = _access(call)
        sortby = params.text("sortby", "serial") or "serial"
        if sortby not in SORT_COLUMNS:
            raise ParameterError(f"parameter sortby must be one of {', '.join(sorted(SORT_COLUMNS))}")
        wanted = TokenFilter(
            serial=params.text("serial", max_length=SERIAL_LENGTH), tokentype=params.text("type", max_length=30),
            description=params.text("description", max_length=255), active=params.flag("active", None),
            assigned=params.flag("assigned", None), rollout_state=params.text("rollout_state", max_length=20),
            user=call.user_param(), realm=params.text("tokenrealm", max_length=255),
            visible_realms=access.visible_realms() if call.is_admin else None,
            infokey=params.text("infokey", max_length=255), infovalue=params.text("infovalue"))
        page, pagesize = _page(call)
        found = call.ctx.tokens.list(call.session, wanted, page=page, pagesize=pagesize, sortby=sortby,
                                     descending=_descending(call))
        shown = [access.show(token) for token in found.tokens]
        if params.text("outform") == "csv":
            return Body(_csv(shown), "text/csv; charset=utf-8", "privacyidea-tokens.csv")
        return {"tokens": shown, "count": found.count, "current": found.current, "next": found.next,
                "prev": found.prev}

    @endpoint("GET", "/token/challenges/", "/token/challenges/<serial>",
              access=Access("getchallenges", f"with a serial: {TOKEN}; without: {LISTED}"))
    def challenges(self, call: Call, serial: str | None = None) -> Any:
        """Open challenges (of one token, or of every token the admin may see), paged."""
        access = _access(call)
        serial = _serial(call, serial, required=False)
        shown = None
        if serial:
            access.get(serial, "getchallenges")
        else:
            call.require_somewhere("getchallenges")
            shown = call.ctx.tokens.ids(TokenFilter(visible_realms=access.visible_realms()))
        page, pagesize = _page(call)
        found = open_challenges.listed(call.session, serial=serial, token_ids=shown,
                                       transaction_id=call.params.text("transaction_id", max_length=64),
                                       sortby=call.params.text("sortby", "id") or "id", descending=_descending(call),
                                       page=page, pagesize=pagesize)
        count, rows = found.count, found.challenges
        last = (count + pagesize - 1) // pagesize
        return {"challenges": [{"id": c.id, "transaction_id": c.transaction_id, "challenge": c.challenge,
                                "serial": c.serial, "timestamp": c.created_at.isoformat(),
                                "expiration": c.expires_at.isoformat(), "received_count": c.received_count,
                                "otp_valid": c.otp_valid} for c in rows],
                "count": count, "current": page, "prev": page - 1 if page > 1 else None,
                "next": page + 1 if page < last else None}

    @endpoint("GET", "/token/getserial/<otp>", access=Access("getserial", LISTED))
    def getserial(self, call: Call, otp: str) -> Any:
        """The serial of the token that generates ``otp`` (``type``, ``assigned``/``unassigned``,
        ``serial`` substring narrow the search; ``count=1`` only counts): ``{serial, count}``.
        Each token is checked within its own window (``window`` is not read) and nothing is consumed."""
        params = call.params
        call.require_somewhere("getserial")
        assigned = True if params.flag("assigned", False) else False if params.flag("unassigned", False) else None
        part = params.text("serial", max_length=SERIAL_LENGTH)
        visible = call.rights.realms("getserial", call.realm_names())
        wanted = TokenFilter(serial=f"*{part}*" if part else None, tokentype=params.text("type", max_length=30),
                             assigned=assigned, visible_realms=visible)
        if params.flag("count", False):
            return {"serial": None, "count": call.ctx.tokens.list(call.session, wanted, pagesize=1).count}
        token, count = token_of_otp(call.ctx.tokens, call.session, otp, wanted)
        if token is not None:
            call.audit.update(serial=token.serial, token_type=token.type)
        return {"serial": token.serial if token else None, "count": count}

    # ---- enrollment and ownership -----------------------------------------------------------------

    @endpoint("POST", "/token/init", roles=ADMIN_OR_USER,
              access=Access(
                  "enroll<TYPE>, and assign with a user",
                  "the realm of ``user`` and each ``tokenrealm`` (neither: bound to no realm); "
                  "re-enrolling: also " + TOKEN,
                  "enroll<TYPE> (own tokens only)"))
    def init(self, call: Call) -> Any:
        """Enroll a token (type-specific parameters), or confirm one with ``verify``."""
        realms = [name.lower() for name in call.params.names("tokenrealm") or []]
        params = call.params.texts(token_class(call.params.text("type") or "hotp").structured_parameters)
        params.pop(ORIGIN_PARAM, None)  # the header's, never a parameter's: what a WebAuthn answer must match
        if call.facts.headers.get("origin"):
            params[ORIGIN_PARAM] = call.facts.headers["origin"][:255]
        enrolled = Enrollment(call.session, call.ctx, call.rights).enroll(params, call.user_param(), realms)
        _audit(call, [enrolled.token], _access(call), enrolled.user)
        call.detail.update(enrolled.detail)
        return True

    @endpoint("POST", "/token/load/<filename>",
              access=Access(
                  "importtokens",
                  "each of ``tokenrealms`` (none: bound to no realm), the realm of each owner in the file, "
                  "and " + TOKEN + " for a serial that exists"))
    def load(self, call: Call, filename: str) -> Any:
        """Import the seed file ``file`` of ``type`` (oathcsv, yubikeycsv, pskc, aladdin-xml; PSKC
        with ``password`` or ``psk`` and ``pskcValidateMAC``) into the realms ``tokenrealms``:
        ``{n_imported, n_not_imported}``, why each was not imported in ``detail``. The tokens are
        committed in batches (``TokenLoader``), so logins go on beside a large file."""
        params = call.params
        realms = [name.lower() for name in params.names("tokenrealms") or []]
        unknown = set(realms) - set(call.realm_names())
        if unknown:
            raise ParameterError(f"realm {sorted(unknown)[0]!r} does not exist")
        for name in realms or [""]:
            call.require("importtokens", [Target(realm=name)])
        kind = params.required("type", max_length=20)
        options = options_of({name: params.text(name) for name in ("password", "psk", "pskcValidateMAC")})
        parsed = parse(kind, params.required("file", max_length=MAX_BODY), options)
        access = _access(call)
        loader = TokenLoader(call.session, call.ctx.tokens, call.ctx.directory)
        owners = loader.owners(parsed, lambda user: call.require("importtokens", [Target.of_user(user)]))
        result = loader.load(parsed, realms, lambda token: access.check(token, "importtokens"), owners)
        call.audit.update(serial=",".join(result.imported), token_type=kind,
                          info=f"{kind} {filename[:100]}: {len(result.imported)} imported, "
                               f"{len(result.failed)} not imported")
        call.detail["not_imported"] = result.failed
        return {"n_imported": len(result.imported), "n_not_imported": len(result.failed)}

    @endpoint("POST", "/token/assign", roles=ADMIN_OR_USER,
              access=Access(
                  "assign",
                  TOKEN + ", and the realm of ``user``",
                  "assign (an unowned token of the user's realm, to themselves)"))
    def assign(self, call: Call) -> Any:
        """Give the token ``serial`` to ``user`` (users: an unowned token of their realm to themselves)."""
        serial = _serial(call, None)
        user = call.user_param(required=True)
        assert user is not None
        access = _access(call)
        token = call.ctx.tokens.get(call.session, serial)
        if call.is_admin:
            call.require("assign", access.targets(token))
            call.require("assign", [Target.of_user(user)])
        else:
            if user.realm not in realm_names(token):  # tokens outside the user's realm do not exist for it
                raise TokenNotFound(f"The token with serial {serial} does not exist")
            call.require("assign")
        enrollment = Enrollment(call.session, call.ctx, call.rights)
        pin = call.params.text("pin")
        if pin is not None:
            enrollment.check_pin(pin, token.type, Target.of_user(user))
        enrollment.check_limits(user, token.type, None)
        call.ctx.tokens.assign(call.session, token.serial, user, pin=pin)
        _audit(call, [token], access, user)
        return True

    @endpoint("POST", "/token/unassign", "/token/unassign/<serial>", roles=ADMIN_OR_USER,
              access=Access("unassign", TOKENS, "unassign (own tokens)"))
    def unassign(self, call: Call, serial: str | None = None) -> Any:
        """Take tokens from their user (``serial``, or all of ``user``); the number unassigned."""
        return self._each(call, serial, "unassign", call.ctx.tokens.unassign)

    # ---- state -------------------------------------------------------------------------------------

    def _each(self, call: Call, serial: str | None, action: str, change: Any, user_action: str = "") -> int:
        access = _access(call)
        tokens = access.selected(_serial(call, serial, required=False), call.user_param(), action, user_action)
        for token in tokens:
            change(call.session, token.serial)
        _audit(call, tokens, access)
        return len(tokens)

    @endpoint("POST", "/token/enable", "/token/enable/<serial>", roles=ADMIN_OR_USER,
              access=Access("enable", TOKENS, "enable (own tokens)"))
    def enable(self, call: Call, serial: str | None = None) -> Any:
        """Enable tokens; the number enabled."""
        return self._each(call, serial, "enable", call.ctx.tokens.enable)

    @endpoint("POST", "/token/disable", "/token/disable/<serial>", roles=ADMIN_OR_USER,
              access=Access("disable", TOKENS, "disable (own tokens)"))
    def disable(self, call: Call, serial: str | None = None) -> Any:
        """Disable tokens; the number disabled."""
        return self._each(call, serial, "disable", lambda session, s: call.ctx.tokens.enable(session, s, False))

    @endpoint("POST", "/token/revoke", "/token/revoke/<serial>", roles=ADMIN_OR_USER,
              access=Access("revoke", TOKENS, "revoke (own tokens)"))
    def revoke(self, call: Call, serial: str | None = None) -> Any:
        """Revoke tokens (disabled and locked for good); the number revoked."""
        return self._each(call, serial, "revoke", call.ctx.tokens.revoke)

    @endpoint("POST", "/token/reset", "/token/reset/<serial>", roles=ADMIN_OR_USER,
              access=Access("reset", TOKENS, "reset (own tokens)"))
    def reset(self, call: Call, serial: str | None = None) -> Any:
        """Reset the fail counter of tokens; the number reset."""
        return self._each(call, serial, "reset", call.ctx.tokens.reset)

    @endpoint("DELETE", "/token/<serial>", roles=ADMIN_OR_USER,
              access=Access("delete", TOKENS, "delete (own tokens)"))
    def delete(self, call: Call, serial: str) -> Any:
        """Delete a token; the number deleted (its audit entries remain)."""
        return self._each(call, serial, "delete", call.ctx.tokens.delete)

    @endpoint("POST", "/token/resync", "/token/resync/<serial>", roles=ADMIN_OR_USER,
              access=Access("resync", TOKEN, "resync (own tokens)"))
    def resync(self, call: Call, serial: str | None = None) -> Any:
        """Resynchronise with two consecutive values ``otp1``, ``otp2``; whether it worked."""
        access = _access(call)
        token = access.get(_serial(call, serial), "resync")
        _audit(call, [token], access)
        return call.ctx.tokens.resync(call.session, token.serial, call.params.required("otp1", max_length=64),
                                      call.params.required("otp2", max_length=64))

    @endpoint("POST", "/token/lost/<serial>", roles=ADMIN_OR_USER,
              access=Access(
                  "losttoken",
                  TOKEN,
                  "losttoken, which no user policy can name: only while no user policy exists (own tokens)"))
    def lost(self, call: Call, serial: str) -> Any:
        """A temporary password token ``lost<serial>`` for the owner; the lost one is disabled."""
        access = _access(call)
        token = access.get(serial, "losttoken")
        owner = access.owner(token)
        target = Target.of_user(owner) if owner else None
        length = call.rights.value("losttoken_PW_length", 16, target, scope=ENROLL)
        days = call.rights.value("losttoken_valid", 10, target, scope=ENROLL)
        contents = call.rights.value("losttoken_PW_contents", "8", target, scope=ENROLL)
        _audit(call, [token], access)
        result = call.ctx.tokens.lost(call.session, token.serial, length=length, valid_days=days,
                                      contents=str(contents))
        return {**result, "user": str(owner) if owner else ""}

    # ---- PINs -------------------------------------------------------------------------------------

    @endpoint("POST", "/token/setpin", "/token/setpin/<serial>", roles=ADMIN_OR_USER,
              access=Access("setpin", TOKEN, "setpin (own tokens)"))
    def setpin(self, call: Call, serial: str | None = None) -> Any:
        """Set ``otppin`` (the OTP PIN), ``userpin`` (e.g. mOTP) and ``sopin``; the number set."""
        access = _access(call)
        token = access.get(_serial(call, serial), "setpin")
        tokens = call.ctx.tokens
        done = 0
        pin = call.params.text("otppin")
        if pin is not None:
            owner = access.owner(token)
            enrollment = Enrollment(call.session, call.ctx, call.rights)
            enrollment.check_pin(pin, token.type, Target.of_user(owner) if owner else None)
            tokens.set_pin(call.session, token.serial, pin)
            enrollment.pin_set(token, owner)
            done += 1
        for name, change in (("userpin", tokens.set_user_pin), ("sopin", tokens.set_so_pin)):
            value = call.params.text(name)
            if value is not None:
                change(call.session, token.serial, value)
                done += 1
        if not done:
            raise ParameterError("missing parameter: otppin, userpin or sopin")
        _audit(call, [token], access)
        return done

    @endpoint("POST", "/token/setrandompin", "/token/setrandompin/<serial>", roles=ADMIN_OR_USER,
              access=Access("setrandompin", TOKEN, "setrandompin (own tokens)"))
    def setrandompin(self, call: Call, serial: str | None = None) -> Any:
        """Set a random OTP PIN of the policy's length (``otp_pin_set_random``); it is in ``detail.pin``."""
        access = _access(call)
        token = access.get(_serial(call, serial), "setrandompin")
        owner = access.owner(token)
        length = call.rights.value("otp_pin_set_random", None, Target.of_user(owner) if owner else None)
        if not length:
            raise PolicyDenied("The policy action otp_pin_set_random is needed to set a random PIN")
        pin = random_pin(length)
        call.ctx.tokens.set_pin(call.session, token.serial, pin)
        Enrollment(call.session, call.ctx, call.rights).pin_set(token, owner)
        call.detail["pin"] = pin
        _audit(call, [token], access)
        return 1

    @endpoint("POST", "/token/copypin", roles=ADMIN_ONLY, access=Access("copytokenpin", "every realm of both tokens"))
    def copypin(self, call: Call) -> Any:
        """Copy the OTP PIN of token ``from`` to token ``to``."""
        return self._copy(call, "copytokenpin", call.ctx.tokens.copy_pin)

    @endpoint("POST", "/token/copyuser", roles=ADMIN_ONLY,
              access=Access("copytokenuser", "every realm of both tokens"))
    def copyuser(self, call: Call) -> Any:
        """Give token ``to`` the user of token ``from``."""
        return self._copy(call, "copytokenuser", call.ctx.tokens.copy_user)

    def _copy(self, call: Call, action: str, copy: Any) -> bool:
        access = _access(call)
        source = access.get(call.params.required("from", max_length=SERIAL_LENGTH), action)
        target = access.get(call.params.required("to", max_length=SERIAL_LENGTH), action)
        copy(call.session, source.serial, target.serial)
        _audit(call, [source, target], access)
        return True

    # ---- properties -------------------------------------------------------------------------------

    @endpoint("POST", "/token/set", "/token/set/<serial>", roles=ADMIN_ONLY, access=Access("set", TOKENS))
    def set(self, call: Call, serial: str | None = None) -> Any:
        """Set description, count_window, sync_window, count_auth_max, count_auth_success_max,
        hashlib, max_failcount, validity_period_start/end; the number of attributes set."""
        access = _access(call)
        tokens = access.selected(_serial(call, serial, required=False), call.user_param(), "set")
        values = call.params.texts()
        done = sum(call.ctx.tokens.set_properties(call.session, token.serial, values) for token in tokens)
        _audit(call, tokens, access)
        return done

    @endpoint("POST", "/token/description", "/token/description/<serial>", roles=ADMIN_OR_USER,
              access=Access("set", TOKENS, "setdescription (own tokens)"))
    def description(self, call: Call, serial: str | None = None) -> Any:
        """Set the ``description`` of tokens (admins: right set; users: setdescription)."""
        description = call.params.text("description", "", max_length=255) or ""
        return self._each(call, serial, "set",
                          lambda session, s: call.ctx.tokens.set_description(session, s, description),
                          user_action="setdescription")

    def _one(self, call: Call, serial: str, action: str, change: Callable[[Session, str], Any]) -> bool:
        access = _access(call)
        token = access.get(serial, action)
        change(call.session, token.serial)
        _audit(call, [token], access)
        return True

    @endpoint("POST", "/token/realm/<serial>", roles=ADMIN_ONLY,
              access=Access("tokenrealms", TOKEN + ", and each new realm"))
    def realm(self, call: Call, serial: str) -> Any:
        """Set the token realms (``realms``, comma-separated); the admin needs the right in each."""
        realms = [name.lower() for name in call.params.names("realms") or []]
        call.require("tokenrealms", [Target(realm=name) for name in realms])
        return self._one(call, serial, "tokenrealms", lambda session, s: call.ctx.tokens.set_realms(session, s, realms))

    @endpoint("POST", "/token/info/<serial>/<key>", roles=ADMIN_ONLY, access=Access("settokeninfo", TOKEN))
    def set_info(self, call: Call, serial: str, key: str) -> Any:
        """Set the tokeninfo ``key`` to ``value``."""
        value = call.params.text("value", "") or ""
        return self._one(call, serial, "settokeninfo",
                         lambda session, s: call.ctx.tokens.set_info(session, s, key[:255], value))

    @endpoint("DELETE", "/token/info/<serial>/<key>", roles=ADMIN_ONLY, access=Access("settokeninfo", TOKEN))
    def delete_info(self, call: Call, serial: str, key: str) -> Any:
        """Delete the tokeninfo ``key``."""
        return self._one(call, serial, "settokeninfo", lambda session, s: call.ctx.tokens.delete_info(session, s, key))

    @endpoint("POST", "/token/group/<serial>", "/token/group/<serial>/<groupname>", roles=ADMIN_ONLY,
              access=Access("tokengroups", TOKEN))
    def set_groups(self, call: Call, serial: str, groupname: str | None = None) -> Any:
        """Put the token into ``groupname``, or exactly into the list ``groups``."""
        names = [groupname] if groupname else call.params.names("groups")
        if names is None:
            raise ParameterError("missing parameter: groups")
        return self._one(call, serial, "tokengroups", lambda session, s: call.ctx.tokens.set_groups(
            session, s, names, add=groupname is not None))

    @endpoint("DELETE", "/token/group/<serial>/<groupname>", roles=ADMIN_ONLY, access=Access("tokengroups", TOKEN))
    def remove_group(self, call: Call, serial: str, groupname: str) -> Any:
        """Take the token out of ``groupname``."""
        return self._one(call, serial, "tokengroups",
                         lambda session, s: call.ctx.tokens.remove_group(session, s, groupname))
