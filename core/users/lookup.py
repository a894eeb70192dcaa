"""User lookup: which user a login names, in which realm and resolver, and what the user
store says about that user (attributes, password, listings); user changes in editable
resolvers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tesserad.core.users import custom_attributes
from tesserad.core.users.base import STANDARD_ATTRIBUTES, Resolver, ResolverError, User, UserError
from tesserad.core.users.snapshot import DirectoryState


class UserLookup(DirectoryState):
    """Users found through the realms' resolvers."""

    def split_user(self, session: Session, login: str, realm: str | None) -> tuple[str, str]:
        """(login, realm) for the ``user`` and ``realm`` request parameters (spec §2.10):
        an explicit realm wins and must exist; with splitAtSign, ``login@realm`` is split
        only when the part after the last ``@`` is a realm; otherwise the default realm."""
        realms = self._snapshot(session).realms
        split = self._sysconfig.settings(session).splitAtSign
        if split and "@" in login:
            head, tail = login.rsplit("@", 1)
            if tail.lower() in realms:
                login, suffix = head, tail.lower()
            else:
                suffix = None
        else:
            suffix = None
        if realm:
            if realm.lower() not in realms:
                raise UserError(f"realm {realm} does not exist")
            return login, realm.lower()
        if suffix is not None:
            return login, suffix
        return login, self.default_realm(session) or ""

    def find_user(self, session: Session, login: str, realm: str) -> User:
        """The user ``login`` from the first resolver of ``realm`` (by priority) that knows
        it; a User without resolver and uid when none does."""
        realm = realm.lower()
        realm_def = self._snapshot(session).realms.get(realm)
        if realm_def is not None and login:
            for name, _ in realm_def.resolvers:
                uid = self.resolver(session, name).uid_for(login)
                if uid:
                    return User(login, realm, name, uid)
        return User(login, realm)

    def resolve(self, session: Session, user_param: str, realm_param: str | None) -> User:
        login, realm = self.split_user(session, user_param, realm_param)
        return self.find_user(session, login, realm)

    def user_from_owner(self, session: Session, realm: str, resolver: str, uid: str) -> User:
        """The user behind a stored token owner, with today's login (empty when the user
        is gone from the store)."""
        try:
            record = self.resolver(session, resolver).get(uid)
        except ResolverError:
            record = None
        return User(record.login if record else "", realm.lower(), resolver, uid)

    def user_info(self, session: Session, user: User) -> dict[str, Any]:
        """The user's attributes from the store, with custom attributes set on the user
        (``/user/attribute``) merged over them; empty for an unknown user."""
        if not user.exists:
            return {}
        record = self.resolver(session, user.resolver).get(user.uid)
        if record is None:
            return {}
        info: dict[str, Any] = {key: "" for key in STANDARD_ATTRIBUTES}
        info.update(record.attributes)
        info["username"], info["userid"] = record.login, record.uid
        info.update(self._custom_attributes(session, user))
        return info

    def _custom_attributes(self, session: Session, user: User) -> dict[str, str]:
        realm_id = self.realm_id(session, user.realm) if user.realm else None
        if realm_id is None:
            return {}
        return custom_attributes.of_user(session, realm_id, user)

    def check_password(self, session: Session, user: User, password: str) -> bool:
        """The user's store password (``otppin=userstore``, ``passthru``); False for a user
        not found or whose resolver is gone."""
        if not user.exists:
            return False
        try:
            resolver = self.resolver(session, user.resolver)
        except ResolverError:
            return False
        return resolver.check_password(user.uid, password)

    def users_of_realms(self, session: Session, realms: list[str],
                        filters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """``GET /user/`` over several realms: each user once, although a resolver may be
        in several of the realms."""
        seen: set[tuple[str, str]] = set()
        users = []
        for realm in realms:
            for user in self.list_users(session, realm, filters):
                if (user["resolver"], user["userid"]) not in seen:
                    seen.add((user["resolver"], user["userid"]))
                    users.append(user)
        return users

    def add_user(self, session: Session, resolver: str, attributes: Mapping[str, Any]) -> str:
        """Create a user in an editable resolver (``POST /user/``); returns the new user id."""
        return self.resolver(session, resolver).add_user(attributes)

    def update_user(self, session: Session, resolver: str, login: str, attributes: Mapping[str, Any]) -> str:
        """Change the attributes (and password) of ``login`` in an editable resolver; returns its id."""
        store = self.resolver(session, resolver)
        uid = self._uid(store, login)
        store.update_user(uid, attributes)
        return uid

    def delete_user(self, session: Session, resolver: str, login: str) -> str:
        """Delete ``login`` from an editable resolver; returns the id it had."""
        store = self.resolver(session, resolver)
        uid = self._uid(store, login)
        store.delete_user(uid)
        return uid

    @staticmethod
    def _uid(store: Resolver, login: str) -> str:
        uid = store.uid_for(login) if login else None
        if not uid:
            raise UserError(f"resolver {store.name} has no user {login!r}")
        return uid

    def list_users(self, session: Session, realm: str, filters: Mapping[str, str] | None = None, *,
                   offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Users of ``realm`` matching ``filters`` (``*`` wildcards; key ``resolver`` picks
        one resolver), resolver by resolver in priority order, then paged."""
        realm_def = self._snapshot(session).realms.get(realm.lower())
        if realm_def is None:
            raise UserError(f"realm {realm} does not exist")
        wanted = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
        only = wanted.pop("resolver", None)
        users: list[dict[str, Any]] = []
        skip = max(offset, 0)
        for name, _ in realm_def.resolvers:
            if only is not None and name != only:
                continue
            need = None if limit is None else limit - len(users)
            if need is not None and need <= 0:
                break
            resolver = self.resolver(session, name)
            records = resolver.search(wanted, limit=None if need is None else skip + need)
            taken = records[skip:]
            skip = max(skip - len(records), 0)
            for record in taken[:need]:
                users.append({**{key: "" for key in STANDARD_ATTRIBUTES}, **record.attributes,
                              "username": record.login, "userid": record.uid,
                              "resolver": name, "editable": resolver.editable})
        return users
