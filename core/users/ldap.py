"""The LDAP resolver (``ldapresolver``): users from OpenLDAP, Active Directory, FreeIPA...

Configured with privacyIDEA's keys, so that ``/resolver`` clients and exports work
unchanged: ``LDAPURI`` (comma list, tried in order: failover), ``LDAPBASE``, ``SCOPE``,
``AUTHTYPE`` (Simple or Anonymous), ``BINDDN``, ``BINDPW`` (kept encrypted),
``LOGINNAMEATTRIBUTE`` (comma list, e.g. ``sAMAccountName, userPrincipalName``),
``LDAPSEARCHFILTER``, ``USERINFO`` (attribute -> LDAP attribute, custom keys allowed),
``MULTIVALUEATTRIBUTES``, ``UIDTYPE`` (DN, entryUUID, objectGUID, uidNumber, ipaUniqueID...),
``SIZELIMIT`` (page size of paged searches), ``TIMEOUT``, ``CACHE_TIMEOUT``, ``START_TLS``,
``TLS_VERIFY``, ``TLS_CA_FILE``, ``TLS_VERSION``, ``EDITABLE``, ``DN_TEMPLATE``,
``OBJECT_CLASSES``, ``SERVERPOOL_SKIP``. tesserad adds ``POOL_SIZE`` and ``POOL_TIMEOUT``
(see ldap_pool). Connections, timeouts and the breaker live in ldap_pool, the cache in
ldap_cache; this module turns users into LDAP filters and entries back into users.

Active Directory: an ``objectGUID`` user id is privacyIDEA's string form of the GUID
(``uuid.UUID(bytes_le=...)``, no braces); accounts with the ACCOUNTDISABLE bit of
``userAccountControl`` cannot log in (their login is not resolved, their password never
checked). Passwords are checked by binding as the user.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import ldap3
from ldap3.core.exceptions import LDAPCommunicationError, LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn, parse_dn

from tesserad.core.clock import Clock
from tesserad.core.users.base import ConfigKey, Resolver, ResolverError, UserError, UserRecord, register_resolver
from tesserad.core.users.hashes import hash_password
from tesserad.core.users.ldap_breaker import CircuitBreaker
from tesserad.core.users.ldap_cache import MISSING, TtlCache
from tesserad.core.users.ldap_pool import Credentials, LdapPool, ServerFailed, parse_uris, tls_settings
from tesserad.core.users.patterns import matches_everything, uid_matcher

Scope = Literal["BASE", "LEVEL", "SUBTREE"]
SCOPES: dict[str, Scope] = {"SUBTREE": ldap3.SUBTREE, "LEVEL": ldap3.LEVEL, "BASE": ldap3.BASE}
AUTHTYPES = ("Simple", "Anonymous")
ACCOUNTDISABLE = 0x2
UAC = "userAccountControl"
PAGED_RESULTS = "1.2.840.113556.1.4.319"
# Result codes: success, size limit exceeded (the entries so far are good), no such object.
_OK, _SIZE_LIMIT, _NO_SUCH_OBJECT = 0, 4, 32
_SERVER_TROUBLE = {51, 52, 53}  # busy, unavailable, unwilling to perform


def _names(value: Any, key: str) -> list[str]:
    """A list setting given as a JSON list or a comma list (privacyIDEA stores both)."""
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        text = str(value or "").strip()
        if text.startswith("["):
            try:
                items = [str(v) for v in json.loads(text)]
            except (ValueError, TypeError):
                raise ResolverError(f"{key}: not a valid JSON list") from None
        else:
            items = text.split(",")
    return [item.strip() for item in items if item.strip()]


def _mapping(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except ValueError:
            raise ResolverError("USERINFO: not valid JSON") from None
    if not isinstance(value, Mapping) or not all(isinstance(v, str) and v for v in value.values()):
        raise ResolverError('USERINFO: expected a JSON object of attribute -> LDAP attribute, e.g. '
                            '{"email": "mail", "surname": "sn", "givenname": "givenName"}')
    return {str(k): v for k, v in value.items()}


def _filter(text: str) -> str:
    """``LDAPSEARCHFILTER`` as one or more parenthesised components (privacyIDEA writes
    ``(uid=*)(objectClass=inetOrgPerson)``; a bare ``objectClass=person`` is wrapped)."""
    text = str(text or "").strip()
    if not text:
        return ""
    if not text.startswith("("):
        text = f"({text})"
    if text.count("(") != text.count(")"):
        raise ResolverError(f"LDAPSEARCHFILTER: unbalanced parentheses in {text!r}")
    return text


def _pattern(value: str) -> str:
    """A ``*`` wildcard pattern as an LDAP assertion value: everything else escaped."""
    return "*".join(escape_filter_chars(part) for part in value.split("*"))


def guid_text(raw: bytes) -> str:
    """An Active Directory objectGUID in privacyIDEA's string form."""
    return str(uuid.UUID(bytes_le=raw))


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.hex()


@dataclass(frozen=True)
class Entry:
    """A directory entry as the resolver keeps it: its DN, the user, and whether Active
    Directory marks the account disabled."""

    dn: str
    record: UserRecord
    disabled: bool


@register_resolver
class LDAPResolver(Resolver):
    rtype = "ldapresolver"
    config_keys = {
        "LDAPURI": ConfigKey("str", "", required=True, doc="comma list of ldap://, ldaps:// URIs or "
                             "host names; tried in this order"),
        "LDAPBASE": ConfigKey("str", "", required=True, doc="search base, e.g. ou=people,dc=example,dc=com"),
        "SCOPE": ConfigKey("str", "SUBTREE", doc="SUBTREE, LEVEL or BASE"),
        "AUTHTYPE": ConfigKey("str", "Simple", doc="Simple (BINDDN/BINDPW) or Anonymous"),
        "BINDDN": ConfigKey("str", "", doc="the service account that searches"),
        "BINDPW": ConfigKey("password", "", doc="its password; kept encrypted"),
        "TIMEOUT": ConfigKey("int", 5, doc="seconds for connecting and for each answer"),
        "CACHE_TIMEOUT": ConfigKey("int", 120, doc="seconds users stay cached in each process; 0 = off"),
        "SIZELIMIT": ConfigKey("int", 500, doc="page size of paged searches"),
        "LOGINNAMEATTRIBUTE": ConfigKey("str", "", required=True,
                                        doc="attribute(s) a user logs in with, e.g. uid or "
                                            "sAMAccountName, userPrincipalName"),
        "LDAPSEARCHFILTER": ConfigKey("str", "(objectClass=*)", doc="which entries are users, e.g. "
                                      "(objectClass=inetOrgPerson)"),
        "USERINFO": ConfigKey("json", None, required=True, doc="user attribute -> LDAP attribute, JSON"),
        "MULTIVALUEATTRIBUTES": ConfigKey("str", "", doc="user attributes returned as lists; "
                                          "default mobile"),
        "UIDTYPE": ConfigKey("str", "DN", doc="DN, entryUUID, objectGUID, uidNumber, ipaUniqueID..."),
        "NOREFERRALS": ConfigKey("bool", False, doc="accepted for privacyIDEA; referrals are never chased"),
        "NOSCHEMAS": ConfigKey("bool", False, doc="accepted for privacyIDEA; schemas are never read"),
        "EDITABLE": ConfigKey("bool", False),
        "DN_TEMPLATE": ConfigKey("str", "", doc="DN of new users, e.g. uid=<username>,ou=people,<basedn>"),
        "OBJECT_CLASSES": ConfigKey("str", "", doc="object classes of new users, comma list"),
        "START_TLS": ConfigKey("bool", False),
        "TLS_VERIFY": ConfigKey("bool", True, doc="check the server certificate and host name"),
        "TLS_CA_FILE": ConfigKey("str", "", doc="CA bundle (PEM); empty: the system's"),
        "CACERTIFICATE": ConfigKey("str", "", doc="older name of TLS_CA_FILE"),
        "TLS_VERSION": ConfigKey("str", "", doc="minimum TLS version: 1.2 (default) or 1.3"),
        "SERVERPOOL_SKIP": ConfigKey("int", 30, doc="seconds a failed server is skipped"),
        "SERVERPOOL_ROUNDS": ConfigKey("int", 2, doc="accepted for privacyIDEA; each server is tried once"),
        "SERVERPOOL_PERSISTENT": ConfigKey("bool", True, doc="accepted for privacyIDEA; failures are "
                                           "always remembered per process"),
        "POOL_SIZE": ConfigKey("int", 8, doc="most connections (threads) at work on this resolver"),
        "POOL_TIMEOUT": ConfigKey("int", 1, doc="seconds a request waits for a free connection"),
    }

    def __init__(self, name: str, config: Mapping[str, Any], *, clock: Clock | None = None):
        # Settings not given take their defaults (TLS_VERIFY must not fall back to off).
        super().__init__(name, {**{key: spec.default for key, spec in self.config_keys.items()}, **config},
                         clock=clock)
        get = self.config.get
        self.editable = bool(get("EDITABLE"))
        self.base = str(get("LDAPBASE") or "").strip()
        if not self.base:
            raise ResolverError("LDAPBASE: missing")
        scope = str(get("SCOPE") or "SUBTREE").upper()
        if scope not in SCOPES:
            raise ResolverError(f"SCOPE: {scope!r} is not one of {', '.join(SCOPES)}")
        self.scope = SCOPES[scope]
        authtype = str(get("AUTHTYPE") or "Simple").capitalize()
        if authtype not in AUTHTYPES:
            raise ResolverError(f"AUTHTYPE: {authtype!r} is not supported; use {' or '.join(AUTHTYPES)}")
        self.login_attributes = _names(get("LOGINNAMEATTRIBUTE"), "LOGINNAMEATTRIBUTE")
        if not self.login_attributes:
            raise ResolverError("LOGINNAMEATTRIBUTE: missing")
        self.mapping = _mapping(get("USERINFO"))
        self.multivalue = set(_names(get("MULTIVALUEATTRIBUTES"), "MULTIVALUEATTRIBUTES") or ["mobile"])
        uidtype = str(get("UIDTYPE") or "DN").strip()
        self.uidtype = "" if uidtype.lower() == "dn" else uidtype
        self.search_filter = _filter(get("LDAPSEARCHFILTER") or "")
        self.page_size = max(int(get("SIZELIMIT") or 500), 1)
        self.timeout = max(int(get("TIMEOUT") or 5), 1)
        self.dn_template = str(get("DN_TEMPLATE") or "")
        self.object_classes = _names(get("OBJECT_CLASSES"), "OBJECT_CLASSES")
        clock = self.clock
        cache_timeout = get("CACHE_TIMEOUT")
        ttl = int(cache_timeout) if cache_timeout is not None else 120
        self._by_login: TtlCache[str, str | None] = TtlCache(clock, ttl)
        self._by_uid: TtlCache[str, Entry | None] = TtlCache(clock, ttl)
        self._attributes = sorted({*self.mapping.values(), *self.login_attributes, UAC,
                                   *([self.uidtype] if self.uidtype else [])} - {self.mapping.get("password")})
        servers = parse_uris(str(get("LDAPURI") or ""))
        start_tls = bool(get("START_TLS"))
        tls = None
        if start_tls or any(s.use_ssl for s in servers):
            tls = tls_settings(verify=bool(get("TLS_VERIFY")), version=str(get("TLS_VERSION") or ""),
                               ca_file=str(get("TLS_CA_FILE") or get("CACERTIFICATE") or ""))
        anonymous = authtype == "Anonymous"
        service = Credentials(None if anonymous else str(get("BINDDN") or "") or None,
                              None if anonymous else str(get("BINDPW") or "") or None, anonymous)
        self.breaker = CircuitBreaker(clock, max(int(get("SERVERPOOL_SKIP") or 30), 1))
        self._pool = LdapPool(name, servers, service, tls=tls, start_tls=start_tls, timeout=self.timeout,
                              size=int(get("POOL_SIZE") or 8), wait=float(get("POOL_TIMEOUT") or 1),
                              breaker=self.breaker, read_only=not self.editable)

    # ---- searching ---------------------------------------------------------------------

    def _search(self, what: str, condition: str = "", *, base: str | None = None, scope: Scope | None = None,
                limit: int | None = None,
                attributes: list[str] | None = None) -> list[tuple[str, dict[str, list[bytes]]]]:
        """(dn, raw attributes) of the matching entries, page by page (``SIZELIMIT`` a
        page), stopping after ``limit``. Referrals in the answer are dropped."""
        query = f"(&{self.search_filter}{condition})" if self.search_filter or condition else "(objectClass=*)"
        page = self.page_size if limit is None else min(self.page_size, max(limit, 1))

        def operation(conn: ldap3.Connection) -> list[tuple[str, dict[str, list[bytes]]]]:
            found: list[tuple[str, dict[str, list[bytes]]]] = []
            cookie = None
            while True:
                try:
                    conn.search(base or self.base, query, scope or self.scope,
                                attributes=attributes if attributes is not None else self._attributes,
                                paged_size=page, paged_cookie=cookie, time_limit=self.timeout)
                except LDAPCommunicationError:
                    raise
                except LDAPException as exc:
                    raise ResolverError(f"resolver {self.name}: {what} failed: {exc}") from None
                result = conn.result or {}
                code = result.get("result")
                if code == _NO_SUCH_OBJECT:
                    return found
                if code in _SERVER_TROUBLE:
                    raise ServerFailed(str(result.get("description")))
                if code not in (_OK, _SIZE_LIMIT):
                    raise ResolverError(f"resolver {self.name}: {what} failed: {result.get('description')} "
                                        f"{result.get('message') or ''}".strip())
                found.extend((item["dn"], item["raw_attributes"]) for item in conn.response or []
                             if item.get("type") == "searchResEntry")
                control = (result.get("controls") or {}).get(PAGED_RESULTS) or {}
                cookie = (control.get("value") or {}).get("cookie")
                if not cookie or code == _SIZE_LIMIT or (limit is not None and len(found) >= limit):
                    return found if limit is None else found[:limit]

        return self._pool.run(what, operation)

    def _entry(self, dn: str, raw: Mapping[str, list[bytes]]) -> Entry:
        values = {key.lower(): items for key, items in raw.items()}
        uid = dn if not self.uidtype else self._uid_value(values.get(self.uidtype.lower()) or [])
        attributes: dict[str, Any] = {}
        for key, attribute in self.mapping.items():
            if key == "password":
                continue
            found = [self._value(attribute, v) for v in values.get(attribute.lower()) or []]
            attributes[key] = found if key in self.multivalue else (found[0] if found else "")
        login = attributes.get("username") or next(
            (_text(values[a.lower()][0]) for a in self.login_attributes if values.get(a.lower())), "")
        if isinstance(login, list):
            login = login[0] if login else ""
        attributes["username"], attributes["userid"] = login, uid
        control = values.get(UAC.lower())
        try:
            disabled = bool(control and int(control[0]) & ACCOUNTDISABLE)
        except ValueError:
            disabled = False
        return Entry(dn, UserRecord(uid, login, attributes), disabled)

    def _uid_value(self, values: list[bytes]) -> str:
        if not values:
            return ""
        return guid_text(values[0]) if self._guid_uid else _text(values[0])

    @property
    def _guid_uid(self) -> bool:
        return self.uidtype.lower() == "objectguid"

    @staticmethod
    def _value(attribute: str, raw: bytes) -> str:
        return guid_text(raw) if attribute.lower() == "objectguid" and len(raw) == 16 else _text(raw)

    def _uid_condition(self, uid: str) -> str:
        if self._guid_uid:
            try:
                raw = uuid.UUID(uid.strip("{}")).bytes_le
            except ValueError:
                raise UserError(f"resolver {self.name}: {uid!r} is not an objectGUID") from None
            return f"({self.uidtype}={escape_filter_chars(raw)})"
        return f"({self.uidtype}={escape_filter_chars(uid)})"

    def _find(self, uid: str) -> Entry | None:
        """The entry with this user id, from the cache or the directory."""
        cached = self._by_uid.get(uid)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        if self.uidtype:
            found = self._search("reading a user", self._uid_condition(uid), limit=2)
        else:
            try:
                parse_dn(uid)
            except LDAPException:
                return None
            found = self._search("reading a user", base=uid, scope=ldap3.BASE, limit=2)
        if len(found) > 1:
            raise ResolverError(f"resolver {self.name}: more than one entry with user id {uid!r}")
        entry = self._entry(*found[0]) if found else None
        self._by_uid.put(uid, entry)
        return entry

    def uid_for(self, login: str) -> str | None:
        key = login.casefold()
        cached = self._by_login.get(key)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        value = escape_filter_chars(login)
        alternatives = "".join(f"({attribute}={value})" for attribute in self.login_attributes)
        condition = alternatives if len(self.login_attributes) == 1 else f"(|{alternatives})"
        found = self._search("looking up a user", condition, limit=2)
        if len(found) > 1:
            raise ResolverError(f"resolver {self.name}: more than one user with login {login!r}")
        entry = self._entry(*found[0]) if found else None
        uid = entry.record.uid if entry is not None and not entry.disabled and entry.record.uid else None
        if entry is not None and uid:
            self._by_uid.put(uid, entry)
        self._by_login.put(key, uid)
        return uid

    def get(self, uid: str) -> UserRecord | None:
        entry = self._find(uid)
        return None if entry is None else entry.record

    def search(self, filters: Mapping[str, str] | None = None, *, offset: int = 0,
               limit: int | None = None) -> list[UserRecord]:
        """Matching users in the directory's order; all of them (page by page) unless
        ``limit`` is given, as privacyIDEA lists them."""
        conditions, uid_filter = [], None
        for key, pattern in (filters or {}).items():
            if matches_everything(pattern):
                continue
            if key == "userid":
                uid_filter = uid_matcher(pattern)
                continue
            attributes = self.login_attributes if key == "username" and key not in self.mapping else \
                [self.mapping[key]] if key in self.mapping and key != "password" else None
            if attributes is None:
                return []  # not an attribute of this store
            alternatives = "".join(f"({attribute}={_pattern(pattern)})" for attribute in attributes)
            conditions.append(alternatives if len(attributes) == 1 else f"(|{alternatives})")
        wanted = None if limit is None or uid_filter is not None else offset + limit
        records = [self._entry(dn, raw).record for dn, raw in
                   self._search("searching users", "".join(conditions), limit=wanted)]
        if uid_filter is not None:
            records = [r for r in records if uid_filter(r.uid)]
        return records[offset:] if limit is None else records[offset:offset + limit]

    def check_password(self, uid: str, password: str) -> bool:
        entry = self._find(uid)
        if entry is None or entry.disabled:
            return False
        return self._pool.bind_as(entry.dn, password)

    def test_connection(self) -> tuple[bool, str]:
        try:
            count = len(self._search("counting users", attributes=["1.1"]))
        except ResolverError as exc:
            return False, str(exc)
        return True, f"Resolver config seems OK. {count} Users found."

    # ---- editing -----------------------------------------------------------------------

    def _changes(self, attributes: Mapping[str, Any]) -> dict[str, list[str]]:
        """LDAP attribute -> values for user ``attributes``; refuses what cannot be written
        before anything changes. A password is stored as a salted SHA-1 ({SSHA}) hash."""
        if not self.editable:
            raise ResolverError(f"resolver {self.name} is not editable")
        changes: dict[str, list[str]] = {}
        unknown = []
        for key, value in attributes.items():
            if key == "password":
                attribute = self.mapping.get("password", "userPassword")
                values = [hash_password(str(value), "SSHA")]
            elif key == "username" and key not in self.mapping:
                attribute, values = self.login_attributes[0], [str(value)]
            elif key in self.mapping:
                attribute = self.mapping[key]
                values = [str(v) for v in value] if isinstance(value, (list, tuple)) else \
                    ([] if value in (None, "") else [str(value)])
            else:
                unknown.append(key)
                continue
            changes[attribute] = values
        if unknown:
            raise ResolverError(f"resolver {self.name}: attributes not in its USERINFO: {', '.join(sorted(unknown))}")
        return changes

    def _write(self, what: str, operation: Any) -> None:
        """Run an add/modify/delete; a refusal of the directory is a precise error."""
        def run(conn: ldap3.Connection) -> None:
            try:
                operation(conn)
            except LDAPCommunicationError:
                raise
            except LDAPException as exc:
                raise ResolverError(f"resolver {self.name}: {what} failed: {exc}") from None
            result = conn.result or {}
            if result.get("result") == _NO_SUCH_OBJECT:
                raise UserError(f"resolver {self.name}: {what} failed: no such entry")
            if result.get("result") != _OK:
                raise ResolverError(f"resolver {self.name}: {what} failed: {result.get('description')} "
                                    f"{result.get('message') or ''}".strip())
        try:
            self._pool.run(what, run)
        finally:
            self._by_login.clear()
            self._by_uid.clear()

    def _new_dn(self, attributes: Mapping[str, Any]) -> str:
        if not self.dn_template:
            raise ResolverError(f"resolver {self.name}: DN_TEMPLATE is needed to add users")
        dn = self.dn_template
        for key in ("username", "surname", "givenname"):
            if f"<{key}>" in dn:
                value = str(attributes.get(key) or "")
                if not value:
                    raise ResolverError(f"resolver {self.name}: DN_TEMPLATE needs the attribute {key}")
                dn = dn.replace(f"<{key}>", escape_rdn(value))
        return dn.replace("<basedn>", self.base)

    def add_user(self, attributes: Mapping[str, Any]) -> str:
        changes = self._changes(attributes)
        login = str(attributes.get("username") or "")
        if not login:
            raise ResolverError(f"resolver {self.name}: a new user needs a username")
        dn = self._new_dn(attributes)
        self._write("adding a user", lambda conn: conn.add(
            dn, self.object_classes or None, {k: v for k, v in changes.items() if v}))
        uid = self.uid_for(login)
        if not uid:
            raise ResolverError(f"resolver {self.name}: the new user {dn} cannot be found by its login "
                                "(does it satisfy LDAPSEARCHFILTER?)")
        return uid

    def update_user(self, uid: str, attributes: Mapping[str, Any]) -> None:
        if "userid" in attributes and str(attributes["userid"]) != uid:
            raise ResolverError(f"resolver {self.name}: a user id cannot change (tokens refer to it)")
        changes = self._changes({k: v for k, v in attributes.items() if k != "userid"})
        entry = self._find(uid)
        if entry is None:
            raise UserError(f"resolver {self.name} has no user with id {uid!r}")
        if changes:
            self._write("updating a user", lambda conn: conn.modify(
                entry.dn, {attribute: [(ldap3.MODIFY_REPLACE, values)] for attribute, values in changes.items()}))

    def delete_user(self, uid: str) -> None:
        self._changes({})  # refuses a read-only resolver
        entry = self._find(uid)
        if entry is None:
            raise UserError(f"resolver {self.name} has no user with id {uid!r}")
        self._write("deleting a user", lambda conn: conn.delete(entry.dn))

    def close(self) -> None:
        self._pool.close()
