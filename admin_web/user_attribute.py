"""``/user/attribute`` and ``/user/editable_attributes/``: custom user attributes (privacyIDEA 3.8).

Admins name the user (``user``, ``realm``, ``resolver``; the path of ``DELETE``); a user
acts on themselves whatever the parameters say. Setting and deleting need a value of
``set_custom_user_attributes`` / ``delete_custom_user_attributes`` that allows the key
(and value) from a policy matching the user (``core.users.custom_attributes``); reading
needs ``userlist`` in the user's realm (users read their own).
"""

from __future__ import annotations

from typing import Any

from tesserad.admin_web.authorization import Access
from tesserad.admin_web.rest import ADMIN_OR_USER, Call, Resource, endpoint
from tesserad.core.rights import PolicyDenied, Target
from tesserad.core.users import custom_attributes
from tesserad.core.users.base import User, UserError

THE_USER = "the realm of the user"


def _realm_id(call: Call, user: User) -> int:
    realm_id = call.ctx.directory.realm_id(call.session, user.realm)
    if realm_id is None or not user.exists:
        raise UserError(f"User {user} does not exist")
    call.audit.update(user=user.login, realm=user.realm, resolver=user.resolver)
    return realm_id


def _user(call: Call) -> User:
    user = call.user_param(required=True)
    assert user is not None
    return user


def _editable(call: Call, user: User) -> custom_attributes.Editable:
    return custom_attributes.editable(call.rights, Target.of_user(user) if call.is_admin else None)


class UserAttributeResource(Resource):
    @endpoint("GET", "/user/attribute", roles=ADMIN_OR_USER,
              access=Access("userlist", THE_USER, "none (own attributes only)"))
    def read(self, call: Call) -> Any:
        """The custom attributes of the user (not those of the user store): ``{key: value}``,
        or with ``key`` that attribute's value (null when unset)."""
        user = _user(call)
        if call.is_admin:
            call.require("userlist", [Target.of_user(user)])
        found = custom_attributes.of_user(call.session, _realm_id(call, user), user)
        key = call.params.text("key", max_length=custom_attributes.KEY_LENGTH)
        return found.get(key) if key else found

    @endpoint("POST", "/user/attribute", roles=ADMIN_OR_USER,
              access=Access("set_custom_user_attributes allowing ``key`` and ``value``", THE_USER,
                            "set_custom_user_attributes allowing ``key`` and ``value`` (own attributes only)"))
    def save(self, call: Call) -> Any:
        """Set the custom attribute ``key`` of the user to ``value`` (``type`` optional); its id."""
        user = _user(call)
        key = call.params.required("key", max_length=custom_attributes.KEY_LENGTH)
        value = call.params.text("value") or ""
        if not _editable(call, user).may_set(key, value):
            raise PolicyDenied(f"You are not allowed to set the custom user attribute {key}!")
        realm_id = _realm_id(call, user)
        call.audit["info"] = f"set attribute {key}"
        return custom_attributes.save(call.session, realm_id, user, key, value, call.params.text("type") or "")

    @endpoint("DELETE", "/user/attribute/<attrkey>/<username>/<realm>", roles=ADMIN_OR_USER,
              access=Access("delete_custom_user_attributes naming ``attrkey`` or *", THE_USER,
                            "delete_custom_user_attributes naming ``attrkey`` or * (own attributes only)"))
    def remove(self, call: Call, attrkey: str, username: str, realm: str) -> Any:
        """Delete the custom attribute ``attrkey`` of ``username`` in ``realm``; how many were deleted."""
        if call.is_admin:
            user = call.ctx.directory.resolve(call.session, username, realm)
        else:
            user = call.identity.user  # type: ignore[union-attr]
        if not _editable(call, user).may_delete(attrkey):
            raise PolicyDenied(f"You are not allowed to delete the custom user attribute {attrkey}!")
        realm_id = _realm_id(call, user)
        call.audit["info"] = f"delete attribute {attrkey}"
        return custom_attributes.remove(call.session, realm_id, user, attrkey)

    @endpoint("GET", "/user/editable_attributes/", roles=ADMIN_OR_USER,
              access=Access("none: the admin policies matching the user", THE_USER,
                            "none: the user policies (own attributes only)"))
    def editable(self, call: Call) -> Any:
        """What the caller may set and delete on the user: ``{"delete": [keys], "set": {key: [values]}}``."""
        user = _user(call)
        return _editable(call, user).as_value()
