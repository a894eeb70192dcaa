"""The authentication engine's view of the policies (``core.auth.policy.AuthPolicies``).

Each request resolves the authentication- and authorization-scope actions the engine
reads (and the enrollment scope's ``autoassignment``) into one ``AuthSettings``, with the
names of the policies that decided, for the audit log. Most requests of a snapshot ask the
same few questions (the same users from the same clients), so the answers are memoized per
policy snapshot whenever they cannot depend on anything but the user and the client: no
policy of those scopes has a time window, an extended condition or ``check_all_resolvers``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from tesserad.core.auth.cache import CacheLimit
from tesserad.core.auth.limits import RateLimit, parse_age
from tesserad.core.auth.policy import CLIENT_MODES, AuthSettings, user_identity
from tesserad.core.policy.actions import AUTH, AUTHZ, ENROLL
from tesserad.core.policy.errors import PolicyError
from tesserad.core.policy.matching import PolicyQuery, PolicySet
from tesserad.core.policy.store import PolicyStore
from tesserad.core.rights import Rights
from tesserad.core.users.base import User
from tesserad.core.users.directory import Directory

# AuthSettings field <- switch action.
_SWITCHES = {"pass_on_no_token": "passOnNoToken", "pass_on_no_user": "passOnNoUser",
             "increase_failcounter_on_challenge": "increase_failcounter_on_challenge",
             "reset_all_user_tokens": "reset_all_user_tokens",
             "resync_via_multichallenge": "resync_via_multichallenge",
             "change_pin_via_validate": "change_pin_via_validate"}
# AuthSettings field <- authorization action, with the parser of its value.
_AUTHZ_VALUES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "auth_max_success": ("auth_max_success", RateLimit.parse),
    "auth_max_fail": ("auth_max_fail", RateLimit.parse),
    "last_auth": ("last_auth", parse_age)}
# AuthSettings field <- authorization switch.
_AUTHZ_SWITCHES = {"application_tokentype": "application_tokentype",
                   "add_user_in_response": "add_user_in_response",
                   "add_resolver_in_response": "add_resolver_in_response",
                   "no_detail_on_success": "no_detail_on_success", "no_detail_on_fail": "no_detail_on_fail"}
# Memoized answers per snapshot; past this many (users x clients) the memo starts over.
MEMO_SIZE = 4096
MemoKey = tuple[str | None, str | None, str | None, str]


class PolicyAuthPolicies:
    """``AuthPolicies`` over the policy store, for the node ``node`` (``pinode``).

    With a ``directory``, policies may use userinfo conditions and ``check_all_resolvers``;
    the user store is asked only when such a policy would otherwise apply. Without one,
    a userinfo condition fails the request (strict mode) and policies match the user's
    own resolver only.
    """

    def __init__(self, store: PolicyStore, node: str, *, directory: Directory | None = None):
        self._store = store
        self._node = node
        self._directory = directory
        # (snapshot, its answers by user and client, or None when they may not be memoized)
        self._memo: tuple[PolicySet, dict[MemoKey, AuthSettings] | None] | None = None

    def for_request(self, session: Session, user: User | None, client: str) -> AuthSettings:
        policies = self._store.snapshot(session)
        memo = self._memo
        if memo is None or memo[0] is not policies:
            memo = self._memo = (policies, {} if _memoizable(policies) else None)
        answers = memo[1]
        if answers is None:
            return self._resolve(session, policies, user, client)
        key = (user.login, user.realm, user.resolver, client) if user else (None, None, None, client)
        found = answers.get(key)
        if found is None:
            found = self._resolve(session, policies, user, client)
            if len(answers) >= MEMO_SIZE:
                answers.clear()
            answers[key] = found
        return found

    def set_realm(self, session: Session, user: User, client: str) -> User:
        """``setrealm`` (authorization): look the user up in the policy's realm instead, as
        privacyIDEA's pre-policy does before anything else reads the realm."""
        policies = self._store.snapshot(session)
        if not policies.mentions(AUTHZ, "setrealm"):
            return user
        query = PolicyQuery(scope=AUTHZ, action="setrealm", **self._facts(session, user, client))
        realm, _ = policies.get_value(query, None)
        if not realm or str(realm).lower() == user.realm or self._directory is None:
            return user
        return self._directory.find_user(session, user.login, str(realm).lower())

    def user_rights(self, session: Session, user: User | None, client: str) -> Rights:
        directory = self._directory
        return Rights(self._store.snapshot(session), user_identity(user), client=client, node=self._node,
                      userinfo=(lambda found: directory.user_info(session, found)) if directory else (lambda _: {}))

    def _resolve(self, session: Session, policies: PolicySet, user: User | None, client: str) -> AuthSettings:
        facts = self._facts(session, user, client)
        auth, authz = PolicyQuery(scope=AUTH, **facts), PolicyQuery(scope=AUTHZ, **facts)
        decided: dict[str, None] = {}  # policy names in order, once each

        def value(query: PolicyQuery, action: str, default: Any) -> Any:
            found, names = policies.get_value(query.with_action(action), default)
            decided.update(dict.fromkeys(names))
            return found

        def switch(action: str, query: PolicyQuery = auth) -> bool:
            found, names = policies.get_bool(query.with_action(action))
            decided.update(dict.fromkeys(names))
            return found

        cache = value(auth, "auth_cache", None)
        modes = value(auth, "preferred_client_mode", None)
        passthru = value(auth, "passthru", None)
        settings = {"otppin": value(auth, "otppin", "tokenpin"), "passthru": bool(passthru),
                    "passthru_server": passthru if isinstance(passthru, str) and passthru != "userstore" else None,
                    "passthru_assign": value(auth, "passthru_assign", None) or None,
                    "challenge_text": value(auth, "challenge_text", None),
                    "challenge_text_header": value(auth, "challenge_text_header", None) or None,
                    "challenge_text_footer": value(auth, "challenge_text_footer", None) or None,
                    "preferred_client_mode": tuple(str(modes).split()) if modes else CLIENT_MODES,
                    "mangle": _mangle_rules(policies, auth, decided),
                    "auth_cache": CacheLimit.parse(cache) if cache else None,
                    # privacyIDEA 3.11: passkey_trigger_by_pin lets a PIN start a passkey challenge.
                    "challenge_response": _types(policies, auth, decided)
                    | ({"passkey"} if switch("passkey_trigger_by_pin") else set()),
                    "enroll_via_multichallenge": value(auth, "enroll_via_multichallenge", None),
                    **{field: switch(action) for field, action in _SWITCHES.items()},
                    "indexedsecret_count": value(auth, "indexedsecret_count", None),
                    "question_number": value(auth, "question_number", 1),
                    "webauthn_text": value(auth, "webauthn_challenge_text", None) or None,
                    "webauthn_transports": tuple(str(value(auth, "webauthn_allowed_transports",
                                                           "usb ble nfc internal")).split()),
                    "webauthn_timeout": int(value(auth, "webauthn_timeout", 60)),
                    "webauthn_user_verification": str(value(auth, "webauthn_user_verification_requirement",
                                                            "preferred"))}
        for field, (action, parse) in _AUTHZ_VALUES.items():
            found = value(authz, action, None)
            settings[field] = parse(found) if found is not None else None
        aaguids = value(authz, "webauthn_authenticator_selection_list", None)
        settings["webauthn_aaguids"] = frozenset(str(aaguids).lower().split()) if aaguids else None
        settings["webauthn_req"] = value(authz, "webauthn_req", None) or None
        types = value(authz, "tokentype", None)
        settings.update({field: switch(action, authz) for field, action in _AUTHZ_SWITCHES.items()},
                        authorized=value(authz, "authorized", "grant_access") != "deny_access",
                        token_types=frozenset(str(types).lower().replace(",", " ").split()) if types else None,
                        serial_pattern=value(authz, "serial", None) or None,
                        tokeninfo_rule=_tokeninfo_rule(value(authz, "tokeninfo", None)),
                        autoassignment=value(PolicyQuery(scope=ENROLL, **facts), "autoassignment", None))
        return AuthSettings(**settings, policy_names=tuple(decided))

    def _facts(self, session: Session, user: User | None, client: str) -> dict[str, Any]:
        """What the queries of both scopes know about the request."""
        if user is None or self._directory is None:
            return {"user_object": user, "client": client, "node": self._node}
        directory = self._directory

        @functools.cache
        def userinfo() -> Mapping[str, Any] | None:
            return directory.user_info(session, user) if user.exists else None

        @functools.cache
        def resolvers() -> tuple[str, ...]:
            realm = directory.list_realms(session).get(user.realm)
            names = [member["name"] for member in realm["resolver"]] if realm else []
            return tuple(n for n in names if user.login and directory.resolver(session, n).uid_for(user.login))

        return {"user_object": user, "client": client, "node": self._node, "userinfo": userinfo,
                "user_resolvers": resolvers}


def _memoizable(policies: PolicySet) -> bool:
    """Whether the answers depend on the user and the client alone (not on the time of day,
    user attributes or other resolvers). Broken policies raise on every request anyway."""
    return not any(p.time.windows or p.check_all_resolvers or any(c.active for c in p.conditions)
                   for p in policies.policies if p.active and (p.scope in (AUTH, AUTHZ) or (
                       p.scope == ENROLL and "autoassignment" in p.actions)))


def _tokeninfo_rule(found: Any) -> tuple[str, str] | None:
    """``tokeninfo=key/regex/`` as (key, regex); a value of another shape cannot decide."""
    if not found:
        return None
    key, slash, rest = str(found).partition("/")
    if not slash or not rest.endswith("/") or not key:
        raise PolicyError(f"tokeninfo must look like key/regex/, not {found!r}")
    return key, rest[:-1]


def _mangle_rules(policies: PolicySet, query: PolicyQuery, decided: dict[str, None]) -> tuple[str, ...]:
    """mangle: the rules of all matching policies, strongest first (each policy may
    rewrite another field)."""
    values = policies.action_values(query.with_action("mangle"), unique=False, allow_white_space_in_action=True)
    for names in values.values():
        decided.update(dict.fromkeys(names))
    return tuple(values)


def _types(policies: PolicySet, query: PolicyQuery, decided: dict[str, None]) -> frozenset[str]:
    """challenge_response: the token types of all matching policies together."""
    values = policies.action_values(query.with_action("challenge_response"), unique=False)
    for names in values.values():
        decided.update(dict.fromkeys(names))
    return frozenset(values)
