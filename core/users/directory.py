"""The user directory: resolver configuration, realms and user lookup, one object.

Each room lives in its own module, built on the shared snapshot (``snapshot``):
``resolver_config`` (save, delete, list, test resolvers), ``realms`` (save, delete, list
realms, the default realm) and ``lookup`` (which user a login names, and what the user store
says about that user). The rest of the core and the edges use them through ``Directory``.
"""

from __future__ import annotations

from tesserad.core.users.lookup import UserLookup
from tesserad.core.users.realms import Realms
from tesserad.core.users.resolver_config import ResolverSettings


class Directory(ResolverSettings, Realms, UserLookup):
    """Realms, resolvers and users; one instance per process, shared by all threads."""
