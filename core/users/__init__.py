"""Users: resolvers that read external user stores, and realms that group them."""

from tesserad.core.users import ldap as _ldap  # noqa: F401  (registers ldapresolver)
