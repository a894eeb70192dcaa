"""Enrolling a token (``/token/init``) and the policies of the other calls that set PINs or owners.

``Enrollment.enroll`` is the one entry point of an enrolment: the HTTP edge parses the request
into its parameters and renders what it returns; enrolment at login calls it the same way.
The caller's scope (admin or user) gives the ``enroll<TYPE>``/``assign`` rights, the PIN rules,
the ``enrollpin`` right and the forced HOTP/TOTP parameters; the enrollment scope, matched for
the token's user, gives the token limits, labels, random and encrypted PINs and enrollment
verification.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tesserad.core.clock import utc_datetime
from tesserad.core.policy.actions import ENROLL
from tesserad.core.rights import PolicyDenied, Rights, Target
from tesserad.core.sms import fcm, gateways
from tesserad.core.store.models.base import NAME_LENGTH
from tesserad.core.token_access import Services, TokenAccess
from tesserad.core.tokens import passkey, webauthn
from tesserad.core.tokens.base import ParameterError, TokenClass, param_bool
from tesserad.core.tokens.registry import token_class
from tesserad.core.users.base import User

PIN_GROUPS = {"c": string.ascii_letters, "n": string.digits, "s": string.punctuation}
RANDOM_PIN_ALPHABET = string.ascii_letters + string.digits
# The types with the enrollment policies {type}_hashlib and {type}_otplen (and totp_timestep).
FORCED_PARAMETER_TYPES = frozenset({"hotp", "totp"})
VERIFY_MESSAGE = "Please provide a valid OTP value."
CLIENTWAIT = "clientwait"
# Enrollment actions that become the /token/init parameter of the same name, per token type
# (the policy wins over the request, as in privacyIDEA).
TYPE_PARAMETERS = {
    "paper": ("papertoken_count",),
    "tan": ("tantoken_count",),
    "pw": ("pw.length", "pw.contents"),
    "registration": ("registration.length", "registration.contents"),
    "push": ("push_registration_url", "push_ttl", "push_ssl_verify", "push_firebase_configuration"),
}
# Per type: the admin/user action that allows or forces two-step enrolment, and the
# enrollment actions that set its parameters.
TWO_STEP = {
    "hotp": ("hotp_2step", {"2step_clientsize": "hotp_2step_clientsize", "2step_serversize": "hotp_2step_serversize",
                            "2step_difficulty": "hotp_2step_difficulty"}),
    "totp": ("totp_2step", {"2step_clientsize": "totp_2step_clientsize", "2step_serversize": "totp_2step_serversize",
                            "2step_difficulty": "totp_2step_difficulty"}),
}
# The enrollment actions that shape step 1 of a WebAuthn enrollment (core/tokens/webauthn.py).
WEBAUTHN_ENROLLMENT = ("webauthn_relying_party_id", "webauthn_relying_party_name", "webauthn_timeout",
                       "webauthn_user_verification_requirement", "webauthn_public_key_credential_algorithms",
                       "webauthn_authenticator_attestation_form", "webauthn_authenticator_selection_list",
                       "webauthn_challenge_text", "webauthn_authenticator_attachment", "webauthn_req",
                       "webauthn_authenticator_attestation_level")
FORCE_APP_PIN = {"hotp": "hotp_force_app_pin", "totp": "totp_force_app_pin"}
_LEGACY_TAGS = {"<u>": "{user}", "<r>": "{realm}", "<s>": "{serial}"}


def random_pin(length: int) -> str:
    return "".join(secrets.choice(RANDOM_PIN_ALPHABET) for _ in range(length))


def pin_contents_problem(pin: str, rule: str) -> str | None:
    """Why ``pin`` breaks the ``otp_pin_contents`` rule, or None. ``cns``: one character of
    each group; ``+cn``: one of the groups together; ``-s``: none of the group; ``[abc]``:
    only these characters. Outside ``[...]`` only the three groups are allowed at all."""
    if rule.startswith("[") and rule.endswith("]"):
        return None if all(char in rule[1:-1] for char in pin) else "Not allowed character in PIN!"
    groups = rule.lstrip("+-")
    allowed = "".join(PIN_GROUPS.values())
    if rule.startswith("-"):
        allowed = "".join(chars for name, chars in PIN_GROUPS.items() if name not in groups)
    if any(char not in allowed for char in pin):
        return "Not allowed character in PIN!"
    if rule.startswith("-"):
        return None
    needed = ["".join(PIN_GROUPS[g] for g in groups)] if rule.startswith("+") else [PIN_GROUPS[g] for g in groups]
    missing = [chars for chars in needed if not any(char in chars for char in pin)]
    return f"Missing character in PIN: {missing[0]}" if missing else None


@dataclass
class Enrolled:
    """What an enrolment did: the token, the user it was enrolled for (None: no user given,
    or a confirmation step of an existing token) and the ``detail`` of the answer."""

    token: TokenClass
    user: User | None
    detail: dict[str, Any] = field(default_factory=dict)


class Enrollment:
    """The policies of one API call that enrolls, assigns or sets a PIN."""

    def __init__(self, session: Session, ctx: Services, rights: Rights):
        self.session = session
        self.ctx = ctx
        self.rights = rights

    def enroll(self, params: Mapping[str, str], user: User | None, realms: Sequence[str] = ()) -> Enrolled:
        """Enroll a token of ``params["type"]`` (default hotp) for ``user`` into the token realms
        ``realms``, as the caller's rights and the policies allow, or confirm the token ``serial``
        (``verify``). ``params`` are /token/init's. Raises PolicyDenied, ParameterError or
        TokenError; the caller commits."""
        wanted = dict(params)
        cls = token_class(wanted.get("type") or "hotp")
        action = f"enroll{cls.type.upper()}"
        if not wanted.get("serial") and wanted.get("transaction_id") and cls.type == "webauthn":
            wanted["serial"] = webauthn.pending_serial(self.session, wanted["transaction_id"]) or ""
        existing = self.ctx.tokens.find(self.session, wanted["serial"]) if wanted.get("serial") else None
        if existing is not None:
            TokenAccess(self.session, self.ctx, self.rights).check(existing, action)
            if existing.row.rollout_state == "verify" and wanted.get("verify"):
                return Enrolled(existing, None, self.verify(existing, wanted["verify"]))
            if existing.row.rollout_state == CLIENTWAIT and wanted.get(existing.second_step_parameter):
                return Enrolled(existing, None, existing.complete_two_step(wanted))
        targets = self._require_rights(cls, action, user, realms)
        if not self.rights.identity.is_admin:
            realms = ()
        if not wanted.get("serial"):
            wanted["serial"] = self.ctx.tokens.new_serial(self.session, cls.prefix)
        prepared = self.prepare(wanted, cls.type, user, targets, new=existing is None)
        token, detail = self.ctx.tokens.init(self.session, prepared, user)
        if "pin" in prepared:
            self.pin_set(token, user)
        if realms:
            self.ctx.tokens.set_realms(self.session, token.serial, list(realms))
        self.require_verification(token, user, detail)
        return Enrolled(token, user, detail)

    def _require_rights(self, cls: type[TokenClass], action: str, user: User | None,
                        realms: Sequence[str]) -> list[Target]:
        """``enroll<TYPE>`` (and ``assign`` with a user) in every realm touched; the targets."""
        if not self.rights.identity.is_admin:
            if not cls.user_enrollable:
                raise PolicyDenied(f"Users cannot enroll {cls.type} tokens")
            self.rights.require(action)
            return []
        targets = ([Target.of_user(user)] if user else []) + [Target(realm=r) for r in realms] or [Target()]
        self.rights.require(action, targets)
        if user is not None:
            self.rights.require("assign", targets)
        return targets

    def check_pin(self, pin: str, token_type: str, target: Target | None) -> None:
        """The caller's PIN rules (``spass_`` rules override them for Simple Pass tokens)."""
        def rule(name: str) -> Any:
            found = self.rights.value(f"spass_{name}", None, target) if token_type == "spass" else None
            return found if found is not None else self.rights.value(name, None, target)

        minimum, maximum, contents = rule("otp_pin_minlength"), rule("otp_pin_maxlength"), rule("otp_pin_contents")
        if minimum is not None and len(pin) < minimum:
            raise PolicyDenied(f"The minimum OTP PIN length is {minimum}")
        if maximum is not None and len(pin) > maximum:
            raise PolicyDenied(f"The maximum OTP PIN length is {maximum}")
        problem = pin_contents_problem(pin, contents) if contents else None
        if problem:
            raise PolicyDenied(problem)

    def pin_set(self, token: TokenClass, owner: User | None) -> None:
        """A PIN was set through the API: with ``change_pin_on_first_use`` one an admin
        set must be changed at the next login; with ``change_pin_every`` (like 180d) it is
        due that long from now. A user who sets the PIN has made a due change."""
        target = Target.of_user(owner) if owner is not None else None
        now = utc_datetime(token.env.clock)
        if self.rights.identity.is_admin and self.rights.switch("change_pin_on_first_use", target, scope=ENROLL):
            token.set_next_pin_change(now)
            return
        every = self.rights.value("change_pin_every", None, target, scope=ENROLL)
        if every or not self.rights.identity.is_admin:
            token.set_pin_change_every(every, now)

    def check_limits(self, user: User, token_type: str, serial: str | None) -> None:
        """``max_token_per_user`` (all, and per type), the same for active tokens, and
        ``max_token_per_realm``: the highest value of the matching policies counts."""
        target = Target.of_user(user)
        tokens = self.ctx.tokens
        for prefix, kind in (("", None), (f"{token_type}_", token_type)):
            for action, active in (("max_token_per_user", False), ("max_active_token_per_user", True)):
                limit = self.rights.max_int(prefix + action, -1, target, scope=ENROLL)
                if limit >= 0 and tokens.count_of(self.session, user, tokentype=kind, active_only=active,
                                                  besides=serial) >= limit:
                    what = f"{'active ' if active else ''}{kind + ' ' if kind else ''}tokens"
                    raise PolicyDenied(f"The number of {what} for this user is limited!")
        limit = self.rights.max_int("max_token_per_realm", -1, target, scope=ENROLL)
        if limit >= 0 and tokens.count_in_realm(self.session, user.realm, besides=serial) >= limit:
            raise PolicyDenied("The number of tokens in this realm is limited!")

    def prepare(self, params: Mapping[str, str], token_type: str, user: User | None,
                targets: list[Target], *, new: bool = True) -> dict[str, str]:
        """The /token/init parameters as the policies make them; ``params`` name the serial
        (labels may contain it); ``new``: no token of that serial exists yet."""
        wanted = dict(params)
        target = targets[0] if targets else None
        owner = Target.of_user(user) if user is not None else None
        self._force_parameters(wanted, token_type, target)
        if token_type == "indexedsecret" and user is not None:
            self._force_secret(wanted, user, target)
        if token_type == "passkey":
            self._passkey(wanted, user, owner)
        if token_type == "sms" and wanted.get("sms.identifier"):
            self._sms_gateway(wanted["sms.identifier"], target)
        self._two_step(wanted, token_type, target, owner, new)
        if token_type == "webauthn":
            self._webauthn(wanted, user, owner)
        for action in TYPE_PARAMETERS.get(token_type, ()):
            value = self.rights.value(action, None, owner, scope=ENROLL)
            if value is not None:
                wanted[action] = str(value)
        if token_type == "push" and wanted.get("push_firebase_configuration"):
            wanted["push_firebase_configuration"] = fcm.checked_configuration(
                self.session, wanted["push_firebase_configuration"])
        self._app_parameters(wanted, token_type, owner)
        if "pin" in wanted and not self.rights.allowed("enrollpin", targets):
            del wanted["pin"]
        random_length = self.rights.value("otp_pin_random", None, owner, scope=ENROLL)
        if random_length:
            wanted["pin"] = random_pin(random_length)
        elif "pin" in wanted:
            self.check_pin(wanted["pin"], token_type, target)
        if self.rights.switch("encrypt_pin", owner, scope=ENROLL):
            wanted["encryptpin"] = "true"
        if user is not None:
            self.check_limits(user, token_type, wanted.get("serial"))
        for action in ("tokenlabel", "tokenissuer"):
            template = self.rights.value(action, None, owner, scope=ENROLL)
            if template:
                wanted[action] = self._fill(template, user, wanted["serial"])
        return wanted

    def _force_parameters(self, wanted: dict[str, str], token_type: str, target: Target | None) -> None:
        if token_type not in FORCED_PARAMETER_TYPES:
            return
        for action, param in ((f"{token_type}_hashlib", "hashlib"), (f"{token_type}_otplen", "otplen")) + \
                ((("totp_timestep", "timeStep"),) if token_type == "totp" else ()):
            forced = self.rights.value(action, None, target)
            if forced is not None:
                wanted[param] = str(forced)
        if not self.rights.identity.is_admin and self.rights.switch(f"{token_type}_force_server_generate"):
            wanted["genkey"] = "1"
            wanted.pop("otpkey", None)

    def _sms_gateway(self, chosen: str, target: Target | None) -> None:
        """A chosen ``sms.identifier`` must exist and, once the caller's scope has policies,
        be one of its ``sms_gateways``."""
        if not gateways.exists(self.session, chosen):
            raise ParameterError(f"sms.identifier: the SMS gateway {chosen[:NAME_LENGTH]!r} does not exist")
        if self.rights.policies.has_active(self.rights.scope) and \
                chosen not in self.rights.words("sms_gateways", target):
            raise PolicyDenied(f"The SMS gateway {chosen[:NAME_LENGTH]!r} is not one the policy sms_gateways allows.")

    def _force_secret(self, wanted: dict[str, str], user: User, target: Target | None) -> None:
        """``indexedsecret_force_attribute``: the user attribute is the secret, whatever was given."""
        attribute = self.rights.value("indexedsecret_force_attribute", None, target)
        if not attribute:
            return
        secret = self.ctx.directory.user_info(self.session, user).get(str(attribute))
        if not secret:
            raise ParameterError(f"the user has no attribute {attribute!r} to take the secret from")
        wanted["otpkey"] = str(secret)
        wanted.pop("genkey", None)

    def _passkey(self, wanted: dict[str, str], user: User | None, owner: Target | None) -> None:
        """A passkey belongs to a user: their name and stable user handle, the credentials they
        hold already, and the relying party and user verification of the enrollment policies
        (never the client's)."""
        if user is None:
            raise ParameterError("A user is required to enroll a passkey")
        for param in passkey.ENROLMENT_PARAMS:
            wanted.pop(param, None)
        for action in ("webauthn_relying_party_id", "webauthn_relying_party_name",
                       "webauthn_user_verification_requirement", "webauthn_authenticator_attestation_level"):
            value = self.rights.value(action, None, owner, scope=ENROLL)
            if value:
                wanted[action] = str(value)
        wanted[passkey.USER_NAME_PARAM] = user.login
        wanted[passkey.USER_ID_PARAM] = passkey.user_handle(self.session, user)
        wanted[passkey.EXCLUDE_PARAM] = " ".join(passkey.credential_ids(self.session, user))

    def _two_step(self, wanted: dict[str, str], token_type: str, target: Target | None, owner: Target | None,
                  new: bool) -> None:
        """``2stepinit`` as the caller's ``<type>_2step`` says: dropped without it, kept with
        ``allow``, set for a new token with ``force``; then the enrollment policies' sizes."""
        activation, sizes = TWO_STEP.get(token_type, ("", {}))
        mode = self.rights.value(activation, None, target) if activation else None
        if mode is None:
            wanted.pop("2stepinit", None)
        elif mode == "force" and new:
            wanted["2stepinit"] = "1"
        if not param_bool(wanted, "2stepinit"):
            return
        for param, action in sizes.items():
            value = self.rights.value(action, None, owner, scope=ENROLL)
            if value is not None:
                wanted[param] = str(value)

    def _webauthn(self, wanted: dict[str, str], user: User | None, owner: Target | None) -> None:
        """Step 1 of a WebAuthn enrollment: the enrollment policies' choices become its
        parameters; the request may not name any of them itself."""
        for name in [name for name in wanted if name.startswith("webauthn_")]:
            del wanted[name]
        if user is None:
            raise ParameterError("missing parameter: user (a WebAuthn token is registered for a user)")
        for action in WEBAUTHN_ENROLLMENT:
            value = self.rights.value(action, None, owner, scope=ENROLL)
            if value is not None:
                wanted[action] = str(value)
        wanted[webauthn.USER_NAME] = user.login
        wanted[webauthn.DISPLAY_NAME] = f"<{user.login}.{user.resolver}@{user.realm}>"
        if self.rights.switch("webauthn_avoid_double_registration", owner, scope=ENROLL):
            wanted[webauthn.EXCLUDE] = " ".join(webauthn.credential_ids(self.session, user, self.ctx.tokens))

    def _app_parameters(self, wanted: dict[str, str], token_type: str, owner: Target | None) -> None:
        """What the enrollment policies put into the otpauth URL for the authenticator app."""
        image = self.rights.value("appimageurl", None, owner, scope=ENROLL)
        if image:
            wanted["appimageurl"] = str(image)
        if token_type in FORCE_APP_PIN and self.rights.switch(FORCE_APP_PIN[token_type], owner, scope=ENROLL):
            wanted["force_app_pin"] = "1"

    def _fill(self, template: str, user: User | None, serial: str) -> str:
        for legacy, tag in _LEGACY_TAGS.items():
            template = template.replace(legacy, tag)
        info = self.ctx.directory.user_info(self.session, user) if user and re.search(
            r"\{(givenname|surname)\}", template) else {}
        values = {"user": user.login if user else "", "realm": user.realm if user else "", "serial": serial,
                  "givenname": info.get("givenname", ""), "surname": info.get("surname", "")}
        return re.sub(r"\{(user|realm|serial|givenname|surname)\}", lambda m: str(values[m.group(1)]), template)

    def require_verification(self, token: TokenClass, user: User | None, detail: dict[str, Any]) -> None:
        """Hold the new token in rollout state ``verify`` when a policy wants an OTP first."""
        owner = Target.of_user(user) if user is not None else None
        if token.row.rollout_state == CLIENTWAIT:
            return  # two-step enrolment: the key is not complete yet (the spec excludes the combination)
        if token.verifiable_at_enrollment and token.type in self.rights.words("verify_enrollment", owner, scope=ENROLL):
            token.row.rollout_state = "verify"
            detail.update(rollout_state="verify", verify={"message": VERIFY_MESSAGE})

    def verify(self, token: TokenClass, otp: str) -> dict[str, Any]:
        """The second step: the OTP from the new token completes its enrollment."""
        matched = token.check_otp(otp)
        if matched < 0 or not token.consume(self.session, matched):
            raise ParameterError("Verification of the new token failed.")
        token.row.rollout_state = "enrolled"
        return {"serial": token.serial, "rollout_state": "enrolled"}
