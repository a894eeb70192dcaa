"""The action registry: every policy action of every scope, with its type, values and default.

Saving a policy checks its actions against this registry, the engine converts values with
it, and ``/policy/defs`` and the web UI render from it, so an action is declared once.

Types: ``bool`` (the name alone switches it on), ``int``, ``str`` (a word, or a blank
separated list of words) and ``text`` (free text in which blanks belong to the value).
``enroll<TYPE>`` (admin, user) and ``<type>_max_token_per_user`` /
``<type>_max_active_token_per_user`` (enrollment) are generated for every token type name
of the spec, implemented or not, so that privacyIDEA's actions are all known.

``CATALOGUE`` holds all of privacyIDEA's actions; ``REGISTRY`` only those tesserad enforces
(``ActionDef.enforced_by`` names the module that reads the action). Only offered actions
can be saved or queried: an admin who sets an action sees it refused instead of
believing it works. ``catalogued`` tells "not supported yet" from "unknown".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from tesserad.core.policy.errors import PolicyError
from tesserad.core.store.models.base import NAME_LENGTH

ActionType = Literal["bool", "int", "str", "text"]
ActionValue = bool | int | str

ADMIN, USER, AUTH, AUTHZ = "admin", "user", "authentication", "authorization"
ENROLL, WEBUI, REGISTER, AUDIT = "enrollment", "webui", "register", "audit"
# ``audit`` is reserved by the spec but has no actions in 3.8.
SCOPES = (ADMIN, USER, AUTH, AUTHZ, ENROLL, WEBUI, REGISTER, AUDIT)

# privacyIDEA's groups, by which the UI arranges the actions of a scope.
GENERAL, TOKEN, ENROLLMENT, PIN, SYSTEM = "general", "token", "enrollment", "pin", "system"
USERS, TOOLS, MACHINE, TOKENGROUP = "user", "tools", "machine", "tokengroup"
RESPONSE, CONDITIONS, SETTINGS = "modifying response", "conditions", "setting actions"

# The spec's 26 token types, privacyIDEA 3.9's daypassword and 3.11's passkey; the user may
# self-enroll the first 19 of the spec (§1.1), daypassword and passkey.
USER_ENROLLABLE = ("hotp", "totp", "spass", "sms", "email", "push", "webauthn", "yubikey", "sshkey",
                   "paper", "radius", "tan", "motp", "yubico", "question", "indexedsecret",
                   "certificate", "u2f", "tiqr", "daypassword", "passkey")
TOKEN_TYPES = USER_ENROLLABLE + ("pw", "registration", "remote", "4eyes", "ocra", "daplug", "vasco")
# The token types tesserad implements (``core.tokens.registry``; a test keeps them equal):
# the per-type actions of the other types are not offered.
IMPLEMENTED_TYPES = ("4eyes", "daypassword", "email", "hotp", "indexedsecret", "motp", "paper", "passkey", "pw",
                     "push", "question", "registration", "sms", "spass", "tan", "totp", "webauthn", "yubikey")

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


class NotSupportedYet(ValueError):
    """A value privacyIDEA knows that tesserad does not enforce yet (saving it is refused)."""


def unquote(raw: str) -> str:
    """The value without one pair of enclosing quotes (``'a b'`` keeps its blank as text)."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return raw


@dataclass(frozen=True)
class ActionDef:
    """One action of one scope."""

    scope: str
    name: str
    type: ActionType
    desc: str
    group: str
    default: ActionValue | None = None
    # Allowed values; with ``multiple`` the value is a blank-separated list of them.
    values: tuple[ActionValue, ...] | None = None
    multiple: bool = False
    minimum: int | None = None
    maximum: int | None = None
    # A format check of a str/text value; raises ValueError naming the expected form.
    check: Callable[[str], None] | None = field(default=None, compare=False, repr=False)
    # The name alone is accepted and means True (privacyIDEA's legacy ``passthru``).
    bare: bool = False
    # The module (dotted, below ``tesserad.``) whose code reads this action and makes it take
    # effect; None for a privacyIDEA action tesserad does not enforce.
    enforced_by: str | None = None
    # The generated family this action belongs to (``enroll<TYPE>``, ``<type>_max_token_per_user``).
    family: str | None = None

    @property
    def offered(self) -> bool:
        """Whether tesserad enforces this action, and so offers it."""
        return self.enforced_by is not None

    def parse(self, raw: str | None) -> ActionValue:
        """The typed value of ``name=raw`` (``raw`` None: the name alone).

        Raises ValueError with the reason, for the caller to name the policy field.
        """
        if raw is None:
            if self.type == "bool" or self.bare:
                return True
            raise ValueError(f"{self.name!r} needs a value ({self.name}=...)")
        value = unquote(raw.strip())
        if self.type == "bool":
            return self._parse_bool(value)
        if self.type == "int":
            return self._parse_int(value)
        self._check_words(value)
        if self.check is not None:
            try:
                self.check(value)
            except ValueError as exc:
                raise type(exc)(f"{self.name!r}: {exc}") from None
        return value

    def _parse_bool(self, value: str) -> bool:
        if value.lower() in TRUE_WORDS:
            return True
        if value.lower() in FALSE_WORDS:
            return False
        raise ValueError(f"{self.name!r} is a switch: give it alone, or =true / =false, not {value!r}")

    def _parse_int(self, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{self.name!r} needs an integer, not {value!r}") from None
        if self.values is not None and number not in self.values:
            raise ValueError(f"{self.name!r} must be one of {_listing(self.values)}, not {number}")
        if (self.minimum is not None and number < self.minimum) or \
                (self.maximum is not None and number > self.maximum):
            raise ValueError(f"{self.name!r} must be between {self.minimum} and {self.maximum}, not {number}")
        return number

    def _check_words(self, value: str) -> None:
        if not value.strip():
            raise ValueError(f"{self.name!r} needs a value ({self.name}=...)")
        if self.values is None:
            return
        words = value.split() if self.multiple else [value]
        for word in words:
            if word not in self.values:
                raise ValueError(f"{self.name!r} allows {_listing(self.values)}, not {word!r}")

    def definition(self) -> dict[str, Any]:
        """This action in privacyIDEA's ``/policy/defs`` shape."""
        entry: dict[str, Any] = {"type": self.type, "desc": self.desc, "group": self.group}
        if self.values is not None:
            entry["value"] = list(self.values)
        if self.multiple:
            entry["multiple"] = True
        return entry


def _listing(values: Iterable[ActionValue]) -> str:
    return ", ".join(str(v) for v in values)


# ---- value format checks ------------------------------------------------------------------

def _form(pattern: str, example: str) -> Callable[[str], None]:
    compiled = re.compile(pattern)

    def check(value: str) -> None:
        if not compiled.fullmatch(value):
            raise ValueError(f"expected the form {example}, not {value!r}")
    return check


def _regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from None


def _keyed_regex(keys: tuple[str, ...] | None) -> Callable[[str], None]:
    """``key/regex/`` as in tokeninfo, u2f_req and webauthn_req."""
    def check(value: str) -> None:
        key, _, rest = value.partition("/")
        if not key or not rest.endswith("/"):
            raise ValueError(f"expected the form key/regex/, not {value!r}")
        if keys is not None and key not in keys:
            raise ValueError(f"the key must be one of {', '.join(keys)}, not {key!r}")
        _regex(rest[:-1])
    return check


def _mangle(value: str) -> None:
    parts = value.split("/", 3)
    if len(parts) != 4 or parts[0] not in ("user", "pass", "realm") or parts[3]:
        raise ValueError(f"expected the form user|pass|realm/regex/replacement/, not {value!r}")
    _regex(parts[1])


def _passthru(value: str) -> None:
    """``userstore`` or the identifier of a RADIUS server definition (checked when used)."""
    if not value.strip() or len(value) > NAME_LENGTH:
        raise ValueError(f"expected userstore or a RADIUS server identifier, not {value[:40]!r}")


def _slashed_regex(value: str) -> None:
    if len(value) < 2 or not value.startswith("/") or not value.endswith("/"):
        raise ValueError(f"expected the form /regex/, not {value!r}")
    _regex(value[1:-1])


_PIN_CONTENTS = _form(r"[+-]?[cns]+|\[.+\]", "cns, +cn, -s or [allowedchars]")
_DURATION_DHM = _form(r"\d+[mhd]", "10m, 10h or 10d")
_RATE = _form(r"\d+/\d+[smh]", "2/5m (count/period in s, m or h)")

# ---- declaring the scopes -----------------------------------------------------------------


def _a(name: str, type_: ActionType, group: str, desc: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "group": group, "desc": desc, **extra}


def _bool(name: str, group: str, desc: str, **extra: Any) -> dict[str, Any]:
    return _a(name, "bool", group, desc, default=False, **extra)


def _pin_rules(who: str) -> list[dict[str, Any]]:
    """PIN rules an admin or a user must follow when setting OTP PINs."""
    rules = [
        _a("otp_pin_maxlength", "int", PIN, f"Longest OTP PIN the {who} may set.", minimum=0, maximum=31,
           enforced_by="core.enrollment"),
        _a("otp_pin_minlength", "int", PIN, f"Shortest OTP PIN the {who} may set.", minimum=0, maximum=31,
           enforced_by="core.enrollment"),
        _a("otp_pin_contents", "str", PIN, f"Characters an OTP PIN set by the {who} must contain: "
           "c letters, n digits, s specials; +cn any of the groups, -s none of them, [chars] only these.",
           check=_PIN_CONTENTS, enforced_by="core.enrollment"),
        _a("otp_pin_set_random", "int", PIN, f"Length of a random PIN the {who} sets via setrandompin.",
           minimum=1, maximum=31, enforced_by="admin_web.token"),
    ]
    rules += [
        _a("spass_otp_pin_maxlength", "int", PIN, "Longest PIN of a Simple Pass token; overrides the "
           "general rule.", minimum=0, maximum=31, enforced_by="core.enrollment"),
        _a("spass_otp_pin_minlength", "int", PIN, "Shortest PIN of a Simple Pass token; overrides the "
           "general rule.", minimum=0, maximum=31, enforced_by="core.enrollment"),
        _a("spass_otp_pin_contents", "str", PIN, "Character rules for Simple Pass token PINs; override "
           "the general rule.", check=_PIN_CONTENTS, enforced_by="core.enrollment"),
    ]
    return rules


def _forced_parameters(who: str) -> list[dict[str, Any]]:
    """HOTP/TOTP parameters an admin or a user enrolls with, instead of choosing them."""
    return [
        _a("hotp_2step", "str", ENROLLMENT, f"Let ('allow') or make ('force') the {who} enroll HOTP "
           "tokens in two steps, with a client-generated key part.", values=("allow", "force"),
           enforced_by="core.enrollment"),
        _a("totp_2step", "str", ENROLLMENT, f"Let ('allow') or make ('force') the {who} enroll TOTP "
           "tokens in two steps, with a client-generated key part.", values=("allow", "force"),
           enforced_by="core.enrollment"),
        _a("hotp_hashlib", "str", ENROLLMENT, f"Hash algorithm HOTP tokens enrolled by the {who} use.",
           values=("sha1", "sha256", "sha512"), default="sha1", enforced_by="core.enrollment"),
        _a("totp_hashlib", "str", ENROLLMENT, f"Hash algorithm TOTP tokens enrolled by the {who} use.",
           values=("sha1", "sha256", "sha512"), default="sha1", enforced_by="core.enrollment"),
        _a("hotp_otplen", "int", ENROLLMENT, f"OTP length of HOTP tokens enrolled by the {who}.",
           values=(6, 8), default=6, enforced_by="core.enrollment"),
        _a("totp_otplen", "int", ENROLLMENT, f"OTP length of TOTP tokens enrolled by the {who}.",
           values=(6, 8), default=6, enforced_by="core.enrollment"),
        _a("totp_timestep", "int", ENROLLMENT, f"Time step of TOTP tokens enrolled by the {who}.",
           values=(30, 60), default=30, enforced_by="core.enrollment"),
        _a("sms_gateways", "str", ENROLLMENT, f"Blank-separated SMS gateways the {who} may choose from "
           "when enrolling an SMS token.", enforced_by="core.enrollment"),
        _a("indexedsecret_force_attribute", "str", ENROLLMENT, "User attribute whose value becomes the "
           f"secret of an indexed secret token the {who} enrolls; the {who} cannot see or change it.",
           enforced_by="core.enrollment"),
        _a("certificate_trusted_Attestation_CA_path", "str", ENROLLMENT, "Directory of trusted CA chains "
           f"(PEM) that verify attestation certificates when the {who} enrolls a certificate token."),
        _a("set_custom_user_attributes", "text", USERS, f"Custom user attributes the {who} may set, as "
           "':key: value1 value2 :other: *'; * allows any key or value.",
           check=_form(r"(\s*:[^:\s]+:(\s+[^\s:]+)+)+\s*", ":department: sales finance :city: *"),
           enforced_by="core.users.custom_attributes"),
        _a("delete_custom_user_attributes", "str", USERS, f"Blank-separated custom user attributes the "
           f"{who} may delete; * for all. Unset: none.", enforced_by="core.users.custom_attributes"),
    ]


def _audit_rights(who: str, whose: str) -> list[dict[str, Any]]:
    return [
        _bool("auditlog", SYSTEM, f"The {who} may view the audit log ({whose}).", enforced_by="admin_web.audit"),
        _a("auditlog_age", "str", SYSTEM, f"Oldest audit entries the {who} may see, like 10m, 10h or 10d.",
           check=_DURATION_DHM, enforced_by="admin_web.audit"),
        _a("hide_audit_columns", "str", SYSTEM, "Blank-separated audit columns removed from responses "
           "and the UI, like 'sig_check log_level'.", enforced_by="admin_web.audit"),
    ]


def _admin() -> list[dict[str, Any]]:
    # (prefix, what, group, the module that reads <prefix>write/read/delete: None for no endpoint)
    crud = [
        ("policy", "policies", SYSTEM, "admin_web.policy"),
        ("resolver", "user resolvers and realms", SYSTEM, "admin_web.resolver"),
        ("mresolver", "machine resolvers", MACHINE, "admin_web.machine"),
        ("config", "the system configuration", SYSTEM, "admin_web.system"),
        ("caconnector", "CA connectors", SYSTEM, None),
    ]
    # (prefix, what, the module that reads <prefix>_write/_read: None for no endpoint)
    servers = [
        ("smtpserver", "SMTP server definitions", "admin_web.smtpserver"),
        ("smsgateway", "SMS gateway definitions", "admin_web.smsgateway"),
        ("periodictask", "periodic tasks", None), ("eventhandling", "event handler definitions", None),
        ("radiusserver", "RADIUS server definitions", "admin_web.radiusserver"),
        ("privacyideaserver", "remote privacyIDEA server definitions", None),
    ]
    actions = [
        _bool("tokenlist", TOKEN, "List the tokens of the policy's user realms (no realm: all tokens).",
              enforced_by="core.token_access"),
        _bool("enable", TOKEN, "Enable tokens.", enforced_by="admin_web.token"),
        _bool("disable", TOKEN, "Disable tokens; disabled tokens cannot authenticate.", enforced_by="admin_web.token"),
        _bool("revoke", TOKEN, "Revoke tokens: disable and lock them for good.", enforced_by="admin_web.token"),
        _bool("set", TOKEN, "Set token properties such as description, max_failcount or validity.",
              enforced_by="admin_web.token"),
        _bool("setpin", PIN, "Set the OTP PIN of tokens.", enforced_by="admin_web.token"),
        _bool("setrandompin", PIN, "Set a random OTP PIN on tokens.", enforced_by="admin_web.token"),
        _bool("settokeninfo", TOKEN, "Set and delete token info entries.", enforced_by="admin_web.token"),
        _bool("enrollpin", PIN, "Pass a PIN at enrollment; without this right the PIN is dropped.",
              enforced_by="core.enrollment"),
        _a("hide_tokeninfo", "str", TOKEN, "Blank-separated tokeninfo keys removed from responses.",
           enforced_by="core.token_access"),
        *_pin_rules("admin"),
        _bool("reset", TOKEN, "Reset the fail counter of tokens.", enforced_by="admin_web.token"),
        _bool("resync", TOKEN, "Resynchronise tokens.", enforced_by="admin_web.token"),
        _bool("assign", TOKEN, "Assign tokens to users, also when enrolling for a user.",
              enforced_by="admin_web.token"),
        _bool("unassign", TOKEN, "Remove tokens from their users.", enforced_by="admin_web.token"),
        _bool("importtokens", TOKEN, "Import token seed files into the policy's realms.",
              enforced_by="admin_web.token"),
        _bool("delete", TOKEN, "Delete tokens (their audit entries remain).", enforced_by="admin_web.token"),
        _bool("userlist", USERS, "List the users of the policy's realms.", enforced_by="admin_web.user"),
        _bool("getchallenges", TOKEN, "View the open challenges of challenge-response tokens.",
              enforced_by="admin_web.token"),
        _bool("tokenrealms", TOKEN, "Set the realms of tokens (shared token pools).", enforced_by="admin_web.token"),
        _bool("tokengroups", TOKENGROUP, "Set the token groups of tokens.", enforced_by="admin_web.token"),
        _bool("tokengroup_list", TOKENGROUP, "List token group definitions.", enforced_by="admin_web.tokengroup"),
        _bool("tokengroup_add", TOKENGROUP, "Define token groups.", enforced_by="admin_web.tokengroup"),
        _bool("tokengroup_delete", TOKENGROUP, "Delete token group definitions.", enforced_by="admin_web.tokengroup"),
        _bool("getserial", TOOLS, "Find the serial of a token from one of its OTP values.",
              enforced_by="admin_web.token"),
        _bool("getrandom", TOOLS, "Fetch random data from /system/random.", enforced_by="admin_web.system"),
        _bool("losttoken", TOKEN, "Run the lost-token process (a temporary password token).",
              enforced_by="admin_web.token"),
        _bool("adduser", USERS, "Add users to editable user stores.", enforced_by="admin_web.user"),
        _bool("updateuser", USERS, "Edit users in editable user stores.", enforced_by="admin_web.user"),
        _bool("deleteuser", USERS, "Delete users from editable user stores.", enforced_by="admin_web.user"),
        _bool("copytokenuser", TOKEN, "Copy the owner of one token to another.", enforced_by="admin_web.token"),
        _bool("copytokenpin", TOKEN, "Copy the OTP PIN of one token to another without knowing it.",
              enforced_by="admin_web.token"),
    ]
    for prefix, what, module in servers:
        actions += [_bool(f"{prefix}_write", SYSTEM, f"Write and delete {what}.", enforced_by=module),
                    _bool(f"{prefix}_read", SYSTEM, f"Read {what}.", enforced_by=module)]
    for prefix, what, group, module in crud:
        actions += [_bool(f"{prefix}write", group, f"Write {what}.", enforced_by=module),
                    _bool(f"{prefix}read", group, f"Read {what}.", enforced_by=module),
                    _bool(f"{prefix}delete", group, f"Delete {what}.", enforced_by=module)]
    actions += [
        _bool("statistics_read", SYSTEM, "Read the monitoring statistics."),
        _bool("statistics_delete", SYSTEM, "Delete monitoring statistics."),
        *_audit_rights("admin", "entries of the policy's user realms"),
        _bool("auditlog_download", SYSTEM, "Download the audit log as CSV (ignores age limits and "
              "hidden columns).", enforced_by="admin_web.audit"),
        _bool("triggerchallenge", GENERAL, "Call /validate/triggerchallenge, e.g. as a service account.",
              enforced_by="admin_web.trigger"),
        *_forced_parameters("admin"),
        _bool("system_documentation", SYSTEM, "Export the system documentation.", enforced_by="admin_web.system"),
        _bool("machinelist", MACHINE, "List machines.", enforced_by="admin_web.machine"),
        _bool("manage_machine_tokens", MACHINE, "Attach tokens to and detach them from machines.",
              enforced_by="admin_web.machine"),
        _bool("fetch_authentication_items", MACHINE, "Fetch authentication items (/machine/authitem).",
              enforced_by="admin_web.machine"),
        _bool("clienttype", SYSTEM, "View the clients that authenticate (/client)."),
        _bool("managesubscription", SYSTEM, "View and change subscriptions."),
        _bool("set_hsm_password", SYSTEM, "Set the password of the hardware security module."),
    ]
    actions += [_bool(f"enroll{t.upper()}", ENROLLMENT, f"Enroll {t.upper()} tokens.", family=ENROLL_FAMILY,
                      enforced_by=_implemented(t, ENROLL_ENFORCER)) for t in TOKEN_TYPES]
    return actions


def _user() -> list[dict[str, Any]]:
    actions = [
        _bool("assign", TOKEN, "Assign an unowned token of the user's realm by its serial.",
              enforced_by="admin_web.token"),
        _bool("disable", TOKEN, "Disable own tokens.", enforced_by="admin_web.token"),
        _bool("enable", TOKEN, "Enable own tokens.", enforced_by="admin_web.token"),
        _bool("delete", TOKEN, "Delete own tokens.", enforced_by="admin_web.token"),
        _bool("unassign", TOKEN, "Give up own tokens.", enforced_by="admin_web.token"),
        _bool("resync", TOKEN, "Resynchronise own tokens.", enforced_by="admin_web.token"),
        _bool("reset", TOKEN, "Reset the fail counter of own tokens.", enforced_by="admin_web.token"),
        _bool("revoke", TOKEN, "Revoke own tokens.", enforced_by="admin_web.token"),
        _bool("setpin", PIN, "Set the OTP PIN of own tokens.", enforced_by="admin_web.token"),
        _bool("setrandompin", PIN, "Set a random OTP PIN on own tokens.", enforced_by="admin_web.token"),
        _bool("setdescription", TOKEN, "Set the description of own tokens.", enforced_by="admin_web.token"),
        _bool("enrollpin", PIN, "Pass a PIN at enrollment; without this right the PIN is dropped.",
              enforced_by="core.enrollment"),
        _a("hide_tokeninfo", "str", TOKEN, "Blank-separated tokeninfo keys removed from responses.",
           enforced_by="core.token_access"),
        *_pin_rules("user"),
        *_audit_rights("user", "entries of own tokens"),
        _bool("updateuser", USERS, "Edit own attributes in an editable user store.", enforced_by="admin_web.user"),
        _bool("userlist", USERS, "View own user information.", enforced_by="admin_web.user"),
        _bool("password_reset", USERS, "Reset the own user-store password by email."),
        *_forced_parameters("user"),
        _bool("hotp_force_server_generate", ENROLLMENT, "HOTP keys must be generated by the server.",
              enforced_by="core.enrollment"),
        _bool("totp_force_server_generate", ENROLLMENT, "TOTP keys must be generated by the server.",
              enforced_by="core.enrollment"),
    ]
    actions += [_bool(f"enroll{t.upper()}", ENROLLMENT, f"Enroll own {t.upper()} tokens.", family=ENROLL_FAMILY,
                      enforced_by=_implemented(t, ENROLL_ENFORCER)) for t in USER_ENROLLABLE]
    return actions


def _authentication() -> list[dict[str, Any]]:
    modes = ("interactive", "webauthn", "poll", "u2f")
    return [
        _a("otppin", "str", GENERAL, "How the fixed part is checked: the token PIN, the user-store "
           "password, or nothing.", values=("tokenpin", "userstore", "none"), default="tokenpin",
           enforced_by="core.policy.auth"),
        _a("passthru", "str", GENERAL, "Users without tokens authenticate with their user-store "
           "password ('userstore') or at the named RADIUS server definition.", bare=True,
           check=_passthru, enforced_by="core.policy.auth"),
        _a("passthru_assign", "str", GENERAL, "After a RADIUS passthru, find and assign an unowned token "
           "by the OTP: pin:6, 6:pin or pin:6:10000 (values checked).",
           check=_form(r"(pin:\d+|\d+:pin)(:\d+)?", "pin:6, 6:pin or pin:6:10000"), enforced_by="core.policy.auth"),
        _bool("passOnNoToken", GENERAL, "Accept users who have no token. Use with care.",
              enforced_by="core.policy.auth"),
        _bool("passOnNoUser", GENERAL, "Accept users who do not exist. Use with care.", enforced_by="core.policy.auth"),
        _a("smstext", "text", TOKEN, "Text of the SMS with the OTP; tags like {otp} and {serial}.",
           default="<otp>", enforced_by="core.policy.auth"),
        _bool("smsautosend", TOKEN, "Send the next SMS OTP after a successful authentication."),
        _a("emailtext", "text", TOKEN, "Body of the OTP email; tags like {otp}; file:/path for an HTML "
           "template.", default="<otp>", enforced_by="core.policy.auth"),
        _a("emailsubject", "text", TOKEN, "Subject of the OTP email.", default="Your OTP",
           enforced_by="core.policy.auth"),
        _bool("emailautosend", TOKEN, "Send the next OTP email after a successful authentication.",
              enforced_by="core.policy.auth"),
        _a("mangle", "text", GENERAL, "Rewrite user, pass or realm before authenticating: "
           "user/regex/replacement/.", check=_mangle, enforced_by="core.policy.auth"),
        _a("challenge_response", "str", TOKEN, "Token types for which the PIN alone triggers a "
           "challenge, blank-separated.", values=TOKEN_TYPES, multiple=True, enforced_by="core.policy.auth"),
        _bool("passkey_trigger_by_pin", TOKEN, "A PIN (or /validate/triggerchallenge) starts a passkey "
              "challenge, as for a webauthn token (privacyIDEA 3.11).", enforced_by="core.policy.auth"),
        _bool("change_pin_via_validate", PIN, "Ask for a new PIN during authentication when it is due.",
              enforced_by="core.policy.auth"),
        _bool("resync_via_multichallenge", TOKEN, "Resynchronise with a second OTP via a challenge.",
              enforced_by="core.policy.auth"),
        _a("enroll_via_multichallenge", "str", ENROLLMENT, "Enroll a token of this type during "
           "authentication when the user has none (push, email and sms once those types exist).",
           values=("hotp", "totp"), enforced_by="core.policy.auth"),
        _a("u2f_facets", "str", TOKEN, "Blank-separated host names trusted to use U2F devices."),
        _bool("reset_all_user_tokens", TOKEN, "Reset the fail counters of all the user's tokens after "
              "a successful authentication.", enforced_by="core.policy.auth"),
        _bool("increase_failcounter_on_challenge", TOKEN, "Count every triggered challenge as a failure.",
              enforced_by="core.policy.auth"),
        _a("auth_cache", "str", GENERAL, "Accept the same credentials again for a while: 4h, 4h/5m "
           "(idle limit) or 2m/3 (use limit).", check=_form(r"\d+[smhd](/(\d+[smhd]|\d+))?", "4h, 4h/5m or 2m/3"),
           enforced_by="core.policy.auth"),
        _a("push_text_on_mobile", "text", TOKEN, "Text of the push notification.", enforced_by="core.policy.auth"),
        _a("push_title_on_mobile", "text", TOKEN, "Title of the push notification.", enforced_by="core.policy.auth"),
        _a("push_wait", "int", TOKEN, "Seconds one /validate/check waits for a push confirmation.",
           minimum=1),
        _a("push_allow_polling", "str", TOKEN, "Whether push tokens may poll for challenges: allow, deny, "
           "or per token ('token').", values=("allow", "deny", "token"), default="allow",
           enforced_by="core.policy.auth"),
        _a("push_ssl_verify", "int", TOKEN, "Whether the app verifies the server's TLS certificate when "
           "answering.", values=(0, 1), default=1),
        _a("challenge_text", "text", GENERAL, "Challenge message of every challenge-response token.",
           enforced_by="core.policy.auth"),
        _a("challenge_text_header", "text", GENERAL, "HTML before the joined challenge texts of several "
           "tokens.", enforced_by="core.policy.auth"),
        _a("challenge_text_footer", "text", GENERAL, "HTML after the joined challenge texts (needs the "
           "header).", enforced_by="core.policy.auth"),
        _a("indexedsecret_challenge_text", "text", TOKEN, "Challenge text of indexed secret tokens; {0!s} "
           "is replaced by the positions."),
        _a("webauthn_challenge_text", "text", TOKEN, "Challenge text of WebAuthn tokens.",
           enforced_by="core.policy.auth"),
        _a("email_challenge_text", "text", TOKEN, "Challenge text of email tokens.", enforced_by="core.policy.auth"),
        _a("sms_challenge_text", "text", TOKEN, "Challenge text of SMS tokens.", enforced_by="core.policy.auth"),
        _a("u2f_challenge_text", "text", TOKEN, "Challenge text of U2F tokens."),
        _a("indexedsecret_count", "int", TOKEN, "Number of secret positions asked.", default=2, minimum=1,
           enforced_by="core.policy.auth"),
        _a("webauthn_allowed_transports", "str", TOKEN, "Transports to the authenticator allowed at "
           "authentication.", values=("usb", "ble", "nfc", "internal"), multiple=True,
           default="usb ble nfc internal", enforced_by="core.policy.auth"),
        _a("webauthn_timeout", "int", TOKEN, "Seconds the client waits for the WebAuthn authenticator.",
           default=60, minimum=1, enforced_by="core.policy.auth"),
        _a("webauthn_user_verification_requirement", "str", TOKEN, "Whether the authenticator must "
           "verify the user at authentication.", values=("required", "preferred", "discouraged"),
           default="preferred", enforced_by="core.policy.auth"),
        _a("question_number", "int", TOKEN, "Questions asked per authentication.", default=1, minimum=1,
           enforced_by="core.policy.auth"),
        _a("preferred_client_mode", "str", GENERAL, "Client modes in order of preference, blank-separated.",
           values=modes, multiple=True, default="interactive webauthn poll u2f", enforced_by="core.policy.auth"),
    ]


def _authorization() -> list[dict[str, Any]]:
    return [
        _a("authorized", "str", GENERAL, "Grant or deny access after a successful authentication.",
           values=("grant_access", "deny_access"), default="grant_access", enforced_by="core.policy.auth"),
        _a("tokentype", "str", TOKEN, "Only these token types authorize, blank-separated, case "
           "sensitive.", enforced_by="core.policy.auth"),
        _bool("application_tokentype", TOKEN, "The application may restrict the tokens by 'type'.",
              enforced_by="core.policy.auth"),
        _a("serial", "str", TOKEN, "Only tokens whose serial matches this regular expression authorize.",
           check=_regex, enforced_by="core.policy.auth"),
        _a("tokeninfo", "str", TOKEN, "Only tokens whose tokeninfo matches authorize: key/regex/.",
           check=_keyed_regex(None), enforced_by="core.policy.auth"),
        _a("setrealm", "str", GENERAL, "Authenticate the user in this realm instead.", enforced_by="core.policy.auth"),
        _bool("no_detail_on_success", RESPONSE, "Leave out the details of successful responses.",
              enforced_by="core.policy.auth"),
        _bool("no_detail_on_fail", RESPONSE, "Leave out the details of failed responses.",
              enforced_by="core.policy.auth"),
        _bool("api_key_required", GENERAL, "/validate needs an API key (JWT with role validate).",
              enforced_by="core.policy.apikey"),
        _a("auth_max_success", "str", GENERAL, "At most this many successes per period, like 2/5m.",
           check=_RATE, enforced_by="core.policy.auth"),
        _a("auth_max_fail", "str", GENERAL, "At most this many failures per period, like 2/1m.",
           check=_RATE, enforced_by="core.policy.auth"),
        _a("last_auth", "str", GENERAL, "Deny tokens not used successfully for this long: 12h, 123d, 2y.",
           check=_form(r"\d+[hdy]", "12h, 123d or 2y"), enforced_by="core.policy.auth"),
        _a("u2f_req", "str", TOKEN, "Only U2F devices whose attestation matches authorize: "
           "subject|issuer|serial/regex/.", check=_keyed_regex(("subject", "issuer", "serial"))),
        _bool("add_user_in_response", RESPONSE, "Add the user's attributes to detail.user on success.",
              enforced_by="core.policy.auth"),
        _bool("add_resolver_in_response", RESPONSE, "Add the user's resolver and realm to the details on "
              "success.", enforced_by="core.policy.auth"),
        _a("webauthn_authenticator_selection_list", "str", TOKEN, "AAGUIDs of the authenticator models "
           "that authorize, blank-separated.", enforced_by="core.policy.auth"),
        _a("webauthn_req", "str", TOKEN, "Only WebAuthn authenticators whose attestation matches "
           "authorize: subject|issuer|serial/regex/.", check=_keyed_regex(("subject", "issuer", "serial")),
           enforced_by="core.policy.auth"),
    ]


def _enrollment() -> list[dict[str, Any]]:
    two_step = []
    for t in ("hotp", "totp"):
        two_step += [
            _a(f"{t}_2step_clientsize", "int", ENROLLMENT, f"Bytes of the client's key part in {t.upper()} "
               "two-step enrollment.", default=8, minimum=1, enforced_by="core.enrollment"),
            _a(f"{t}_2step_serversize", "int", ENROLLMENT, f"Bytes of the server's key part in "
               f"{t.upper()} two-step enrollment (default: the key size).", minimum=1, enforced_by="core.enrollment"),
            _a(f"{t}_2step_difficulty", "int", ENROLLMENT, f"PBKDF2 rounds of {t.upper()} two-step "
               "enrollment.", default=10000, minimum=1, enforced_by="core.enrollment"),
        ]
    per_type = []
    for t in TOKEN_TYPES:
        per_type += [
            _a(f"{t}_max_token_per_user", "int", TOKEN, f"Most {t.upper()} tokens a user may have.",
               minimum=0, family="<type>_max_token_per_user", enforced_by=_implemented(t, LIMITS_ENFORCER)),
            _a(f"{t}_max_active_token_per_user", "int", TOKEN, f"Most active {t.upper()} tokens a user "
               "may have.", minimum=0, family="<type>_max_active_token_per_user",
               enforced_by=_implemented(t, LIMITS_ENFORCER)),
        ]
    return [
        _a("max_token_per_realm", "int", TOKEN, "Most tokens in the realm; the highest matching value "
           "counts.", minimum=0, enforced_by="core.enrollment"),
        _a("max_token_per_user", "int", TOKEN, "Most tokens per user; the highest matching value counts.",
           minimum=0, enforced_by="core.enrollment"),
        _a("max_active_token_per_user", "int", TOKEN, "Most active tokens per user; the highest matching "
           "value counts.", minimum=0, enforced_by="core.enrollment"),
        _a("tokenissuer", "text", TOKEN, "Issuer in the otpauth URI; tags {user} {realm} {serial} "
           "{givenname} {surname}.", enforced_by="core.enrollment"),
        _a("tokenlabel", "text", TOKEN, "Label in the otpauth URI (default: the serial); tags as for "
           "tokenissuer.", enforced_by="core.enrollment"),
        _a("appimageurl", "str", TOKEN, "URL of an image shown by the authenticator app.",
           enforced_by="core.enrollment"),
        _a("autoassignment", "str", TOKEN, "A user without tokens gets an unowned realm token by using "
           "it, with any PIN or the user-store password.", values=("any_pin", "userstore"),
           enforced_by="core.policy.auth"),
        _a("otp_pin_random", "int", PIN, "Set a random PIN of this length at enrollment.",
           minimum=1, maximum=31, enforced_by="core.enrollment"),
        # Not enforced: it names a privacyIDEA PinHandler class; the base one logs the PIN (no PIN
        # goes into a log here) and the others need letter/e-mail delivery tesserad lacks.
        _a("pinhandling", "str", PIN, "Handler that delivers a random PIN."),
        _bool("change_pin_on_first_use", PIN, "A PIN an admin sets (at enrollment or later) must be changed "
              "at the next login.", enforced_by="core.enrollment"),
        _a("change_pin_every", "str", PIN, "The PIN must be changed this often, like 180d.",
           check=_form(r"\d+d", "180d"), enforced_by="core.enrollment"),
        _bool("encrypt_pin", PIN, "Store the PIN encrypted instead of hashed.", enforced_by="core.enrollment"),
        _a("registration.length", "int", TOKEN, "Length of generated registration codes.", default=24,
           minimum=1, enforced_by="core.enrollment"),
        _a("registration.contents", "str", TOKEN, "Characters of registration codes (as otp_pin_contents).",
           default="cn", check=_PIN_CONTENTS, enforced_by="core.enrollment"),
        _a("pw.length", "int", TOKEN, "Length of generated password-token passwords.", default=12,
           minimum=1, enforced_by="core.enrollment"),
        _a("pw.contents", "str", TOKEN, "Characters of generated passwords (as otp_pin_contents).",
           default="cn", check=_PIN_CONTENTS, enforced_by="core.enrollment"),
        _a("losttoken_PW_length", "int", TOKEN, "Password length of the lost-token replacement.",
           default=16, minimum=1, maximum=31, enforced_by="admin_web.token"),
        _a("losttoken_PW_contents", "str", TOKEN, "Characters of the lost-token password: c lowercase, "
           "C uppercase, n digits, s specials, 8 base58.", default="8",
           check=_form(r"[cnsC8]+", "cnsC8 letters"), enforced_by="admin_web.token"),
        _a("losttoken_valid", "int", TOKEN, "Days the lost-token replacement is valid.", default=10,
           minimum=1, maximum=60, enforced_by="admin_web.token"),
        # Not enforced: the server never reads it (the manual: only an enrollment client that
        # programs Yubikeys would), and tesserad has no such client.
        _a("yubikey_access_code", "str", TOKEN, "Access code (12 hex digits, old:new to change) for "
           "enrollment clients that program Yubikeys.",
           check=_form(r"[0-9a-fA-F]{12}(:[0-9a-fA-F]{12})?", "313233343536 or old:new")),
        _a("papertoken_count", "int", TOKEN, "OTP values printed on a paper token.", default=100, minimum=1,
           enforced_by="core.enrollment"),
        _a("tantoken_count", "int", TOKEN, "TANs generated for a TAN token.", default=100, minimum=1,
           enforced_by="core.enrollment"),
        _a("u2f_req", "str", TOKEN, "Only U2F devices whose attestation matches may register: "
           "subject|issuer|serial/regex/.", check=_keyed_regex(("subject", "issuer", "serial"))),
        _bool("u2f_no_verify_certificate", TOKEN, "Do not check the validity period of U2F attestation "
              "certificates."),
        *two_step,
        _bool("hotp_force_app_pin", TOKEN, "The privacyIDEA Authenticator must protect HOTP tokens with "
              "a PIN.", enforced_by="core.enrollment"),
        _bool("totp_force_app_pin", TOKEN, "The privacyIDEA Authenticator must protect TOTP tokens with "
              "a PIN.", enforced_by="core.enrollment"),
        _a("push_firebase_configuration", "str", TOKEN, "The Firebase definition (an SMS gateway of the "
           "Firebase provider) that notifies new push tokens, or 'poll only'.", enforced_by="core.enrollment"),
        _a("push_registration_url", "str", TOKEN, "URL the push app registers at (…/ttype/push).",
           enforced_by="core.enrollment"),
        _a("push_ttl", "int", TOKEN, "Minutes the second push registration step is accepted.", default=10,
           minimum=1, enforced_by="core.enrollment"),
        _a("push_ssl_verify", "int", TOKEN, "Whether the app verifies the server's TLS certificate at "
           "enrollment.", values=(0, 1), default=1, enforced_by="core.enrollment"),
        _a("verify_enrollment", "str", TOKEN, "Token types whose enrollment must be confirmed with an OTP.",
           values=("hotp", "totp", "email", "sms", "indexedsecret"), multiple=True, enforced_by="core.enrollment"),
        _a("webauthn_relying_party_id", "str", TOKEN, "Relying party ID (a domain) of new WebAuthn "
           "tokens; required.", enforced_by="core.enrollment"),
        _a("webauthn_relying_party_name", "text", TOKEN, "Human-readable relying party name; required.",
           enforced_by="core.enrollment"),
        _a("webauthn_timeout", "int", TOKEN, "Seconds the client waits for the authenticator at "
           "enrollment.", default=60, minimum=1, enforced_by="core.enrollment"),
        _a("webauthn_authenticator_attachment", "str", TOKEN, "Allow only platform or only "
           "cross-platform authenticators (unset: both).", values=("platform", "cross-platform"),
           enforced_by="core.enrollment"),
        _a("webauthn_authenticator_selection_list", "str", TOKEN, "AAGUIDs of the authenticator models "
           "that may be enrolled, blank-separated.", enforced_by="core.enrollment"),
        _a("webauthn_user_verification_requirement", "str", TOKEN, "Whether the authenticator must "
           "verify the user at enrollment.", values=("required", "preferred", "discouraged"),
           default="preferred", enforced_by="core.enrollment"),
        _a("webauthn_public_key_credential_algorithms", "str", TOKEN, "Key algorithms offered, "
           "blank-separated.", values=("ecdsa", "rsassa-pss", "rsassa-pkcs1v1_5"), multiple=True,
           default="ecdsa rsassa-pss", enforced_by="core.enrollment"),
        _a("webauthn_authenticator_attestation_form", "str", TOKEN, "Attestation requested at enrollment.",
           values=("direct", "indirect", "none"), default="direct", enforced_by="core.enrollment"),
        _a("webauthn_authenticator_attestation_level", "str", TOKEN, "How strictly attestation is checked.",
           values=("untrusted", "trusted", "none"), default="untrusted", enforced_by="core.enrollment"),
        _a("webauthn_req", "str", TOKEN, "Only authenticators whose attestation matches may be enrolled: "
           "subject|issuer|serial/regex/.", check=_keyed_regex(("subject", "issuer", "serial")),
           enforced_by="core.enrollment"),
        _a("webauthn_challenge_text", "text", TOKEN, "Text asking to confirm enrollment on the "
           "authenticator.", enforced_by="core.enrollment"),
        _bool("webauthn_avoid_double_registration", TOKEN, "The same authenticator may be registered "
              "once per user.", enforced_by="core.enrollment"),
        _a("certificate_require_attestation", "str", TOKEN, "Whether certificate requests need a "
           "verified attestation certificate.", values=("ignore", "verify", "require_and_verify"),
           default="ignore"),
        _a("certificate_ca_connector", "str", TOKEN, "CA connector added to certificate requests."),
        _a("certificate_template", "str", TOKEN, "Certificate template added to certificate requests."),
        _a("certificate_request_subject_component", "str", TOKEN, "Subject components added to "
           "certificate requests.", values=("email", "realm"), multiple=True),
        *per_type,
    ]


def _webui() -> list[dict[str, Any]]:
    return [
        _a("login_mode", "str", GENERAL, "How users and admins log in to the UI: user-store password, "
           "a token (privacyIDEA), or not at all.", values=("userstore", "privacyIDEA", "disable"),
           default="userstore", enforced_by="core.login"),
        _a("remote_user", "str", GENERAL, "Log in the user a trusted proxy names (web.remote_user_header "
           "from web.remote_user_proxies): allowed beside credentials, or force in the UI.",
           values=("disable", "allowed", "force"), default="disable", enforced_by="core.login"),
        _a("logout_time", "int", GENERAL, "Seconds of idleness before the UI logs out.", default=120,
           minimum=1, enforced_by="core.webui"),
        _a("timeout_action", "str", GENERAL, "What happens after logout_time.",
           values=("lockscreen", "logout"), default="lockscreen", enforced_by="core.webui"),
        _a("audit_page_size", "int", GENERAL, "Audit entries per page.", default=10, minimum=1,
           enforced_by="core.webui"),
        _a("token_page_size", "int", GENERAL, "Tokens per page.", default=15, minimum=1, enforced_by="core.webui"),
        _a("user_page_size", "int", GENERAL, "Users per page.", default=15, minimum=1, enforced_by="core.webui"),
        _a("policy_template_url", "str", GENERAL, "Where policy templates are fetched from.",
           default="https://raw.githubusercontent.com/privacyidea/policy-templates/master/templates/",
           enforced_by="core.webui"),
        _a("default_tokentype", "str", GENERAL, "Token type preselected for enrollment.",
           values=TOKEN_TYPES, default="hotp", enforced_by="core.webui"),
        _bool("tokenwizard", GENERAL, "Users without tokens see a wizard for their first token.",
              enforced_by="core.webui"),
        _bool("tokenwizard_2nd_token", GENERAL, "Show the wizard even if the user has a token.",
              enforced_by="core.webui"),
        _a("realm_dropdown", "str", GENERAL, "Realms offered on the login page, blank-separated.",
           enforced_by="core.webui"),
        _bool("search_on_enter", GENERAL, "Search users only on Enter, not while typing.", enforced_by="core.webui"),
        _bool("user_details", GENERAL, "Show user ID and resolver in the token list.", enforced_by="core.webui"),
        _a("custom_baseline", "str", GENERAL, "Template (in web.customization_dir) replacing the page "
           "baseline; matched by client and node only.", enforced_by="core.webui"),
        _a("custom_menu", "str", GENERAL, "Template (in web.customization_dir) replacing the menu; "
           "matched by client and node only.", enforced_by="core.webui"),
        _bool("hide_buttons", GENERAL, "Hide buttons of forbidden actions instead of disabling them.",
              enforced_by="core.webui"),
        _bool("deletion_confirmation", GENERAL, "Confirm the deletion of configuration objects.",
              enforced_by="core.webui"),
        _a("token_rollover", "str", GENERAL, "Token types with a rollover button, blank-separated.",
           values=TOKEN_TYPES, multiple=True, enforced_by="core.webui"),
        _a("login_text", "text", GENERAL, "Text of the login dialog.", default="Please sign in",
           enforced_by="core.webui"),
        _bool("show_android_privacyidea_authenticator", GENERAL, "Show a QR code for the Android app.",
              enforced_by="core.webui"),
        _bool("show_ios_privacyidea_authenticator", GENERAL, "Show a QR code for the iOS app.",
              enforced_by="core.webui"),
        _a("show_custom_authenticator", "str", GENERAL, "Show a QR code leading to this URL.",
           enforced_by="core.webui"),
        _bool("show_node", GENERAL, "Show the node name next to the logo.", enforced_by="core.webui"),
        _bool("show_seed", GENERAL, "Show the token seed as text at enrollment.", enforced_by="core.webui"),
        _a("indexedsecret_preset_attribute", "str", GENERAL, "User attribute that presets the secret of "
           "indexed secret tokens.", enforced_by="core.webui"),
        _bool("admin_dashboard", GENERAL, "Admins start on the dashboard.", enforced_by="core.webui"),
        _bool("dialog_no_token", GENERAL, "Welcome users without tokens with a dialog.", enforced_by="core.webui"),
        _bool("hide_welcome_info", GENERAL, "Do not show admins the welcome dialog.", enforced_by="core.webui"),
        _a("privacy_statement_link", "str", GENERAL, "Link to the privacy statement in the baseline.",
           check=_form(r"(https?://|/)\S+", "https://example.com/privacy or /privacy.html"),
           enforced_by="core.webui"),
        _a("logout_redirect", "str", GENERAL, "URL the UI goes to after logout.", enforced_by="core.webui"),
    ]


def _register() -> list[dict[str, Any]]:
    return [
        _a("realm", "str", GENERAL, "Realm new users are registered in (default: the default realm)."),
        _a("resolver", "str", GENERAL, "Editable resolver new users are created in; required."),
        _a("smtpconfig", "str", GENERAL, "SMTP server that sends the registration email."),
        _a("requiredemail", "str", GENERAL, "Only email addresses matching /regex/ may register.",
           check=_slashed_regex),
        _a("registration_body", "text", GENERAL, "Body of the registration email; {regkey} is the code."),
    ]


# ---- what enforces what ----------------------------------------------------------------------
# Each declaration names the module (below ``tesserad.``) that reads it in ``enforced_by``; an
# action without one is catalogued but not offered. The generated families name theirs here.
ENROLL_FAMILY = "enroll<TYPE>"
ENROLL_ENFORCER = "core.enrollment"
LIMITS_ENFORCER = "core.enrollment"


def _implemented(token_type: str, module: str) -> str | None:
    return module if token_type in IMPLEMENTED_TYPES else None


def _build() -> Mapping[str, Mapping[str, ActionDef]]:
    declared = {ADMIN: _admin(), USER: _user(), AUTH: _authentication(), AUTHZ: _authorization(),
                ENROLL: _enrollment(), WEBUI: _webui(), REGISTER: _register(), AUDIT: []}
    catalogue: dict[str, Mapping[str, ActionDef]] = {}
    for scope, specs in declared.items():
        actions: dict[str, ActionDef] = {}
        for spec in specs:
            if spec["name"] in actions:
                raise RuntimeError(f"action {spec['name']!r} declared twice in scope {scope!r}")
            actions[spec["name"]] = ActionDef(scope=scope, **spec)
        catalogue[scope] = MappingProxyType(actions)
    return MappingProxyType(catalogue)


# Every privacyIDEA action, enforced or not.
CATALOGUE: Mapping[str, Mapping[str, ActionDef]] = _build()
# The actions tesserad enforces: the only ones offered, saved and queried.
REGISTRY: Mapping[str, Mapping[str, ActionDef]] = MappingProxyType({
    scope: MappingProxyType({name: a for name, a in actions.items() if a.offered})
    for scope, actions in CATALOGUE.items()})


def action_def(scope: str, name: str) -> ActionDef | None:
    """The declaration of the offered action ``name`` in ``scope``, or None when tesserad
    does not enforce it (or the scope has no such action)."""
    return REGISTRY.get(scope, {}).get(name)


def catalogued(scope: str, name: str) -> ActionDef | None:
    """The declaration of ``name`` in privacyIDEA's catalogue of ``scope``, offered or not."""
    return CATALOGUE.get(scope, {}).get(name)


def unsupported_message(scope: str, name: str) -> str:
    """Why ``name`` cannot be set: not supported yet, or not an action at all."""
    if catalogued(scope, name) is not None:
        return f"{name!r} is a privacyIDEA action of scope {scope!r} that tesserad does not support yet"
    close = difflib.get_close_matches(name, REGISTRY.get(scope, {}), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{name!r} is not an action of scope {scope!r}{hint}"


def definitions(scope: str | None = None) -> dict[str, Any]:
    """privacyIDEA's ``/policy/defs``: ``{scope: {action: {type, desc, group[, value]}}}``.

    With ``scope``, only that scope's ``{action: {...}}`` (as ``/policy/defs/<scope>``).
    """
    if scope is not None:
        if scope not in REGISTRY:
            raise PolicyError(f"unknown scope {scope!r}; one of {', '.join(SCOPES)}", field="scope")
        return {name: a.definition() for name, a in REGISTRY[scope].items()}
    return {s: {name: a.definition() for name, a in actions.items()} for s, actions in REGISTRY.items()}
