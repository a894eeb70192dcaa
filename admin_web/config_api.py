"""The configuration resources, in the order ``site.RESOURCES`` mounts them."""

from __future__ import annotations

from tesserad.admin_web.audit import AuditResource
from tesserad.admin_web.defaultrealm import DefaultRealmResource
from tesserad.admin_web.info import InfoResource
from tesserad.admin_web.policy import PolicyResource
from tesserad.admin_web.realm import RealmResource
from tesserad.admin_web.resolver import ResolverResource
from tesserad.admin_web.rest import Resource
from tesserad.admin_web.system import SystemResource
from tesserad.admin_web.ttype import TokenTypeResource
from tesserad.admin_web.user import UserResource
from tesserad.admin_web.user_attribute import UserAttributeResource

CONFIG_RESOURCES: tuple[type[Resource], ...] = (
    RealmResource, DefaultRealmResource, ResolverResource, UserResource, UserAttributeResource, SystemResource,
    PolicyResource, AuditResource, InfoResource, TokenTypeResource,
)
