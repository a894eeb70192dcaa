"""What every REST endpoint checks before it acts, declared on the endpoint itself
(``@endpoint(..., access=Access(...))``) and rendered as the endpoint table of
docs/authorization.md, so the table cannot drift from the code.

The rule (``core.rights``): a call names every realm it touches and an admin needs the
right in all of them; objects in no realm need an admin bound to no realm; a user needs a
user right that a user policy names (every right while no user policy exists).

Regenerate the table: ``python -m tesserad.admin_web.authorization > docs/authorization.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tesserad.admin_web.rest import Endpoint

# The realms an admin's right must cover, in the words of the table.
NO_REALM = "none: an object in no realm, so only an admin bound to no realm"
LISTED = "any one realm; the answer holds only what is in the realms the right covers"
TOKEN = "every realm of the token: its owner's realm and each token realm (none: bound to no realm)"
TOKENS = "every realm of each token (``serial``, or all tokens of ``user``) and the realm of ``user``"
RESOLVER = "every realm the resolver is in (in none: bound to no realm)"
ANY_ADMIN = "none: any admin"
NOT_FOR_USERS = "not for users"


@dataclass(frozen=True)
class Access:
    """``admin``: the admin right(s) (or why none is needed); ``realms``: where it must
    hold; ``user``: the user right, or NOT_FOR_USERS for admin-only endpoints."""

    admin: str
    realms: str
    user: str = NOT_FOR_USERS


PUBLIC = Access("none: no login", "-", "none: no login")
UNDECLARED = Access("UNDECLARED", "UNDECLARED", "UNDECLARED")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(endpoints: Iterable[Endpoint]) -> str:
    """docs/authorization.md: the rule and one row per method and path."""
    lines = [
        "# Authorization of the REST API",
        "",
        "Generated from the endpoint declarations (`admin_web/authorization.py`); "
        "`tests/http/test_authorization_walk.py` fails when it is out of date.",
        "",
        "The rule: every management call names the realms it touches (the user's realm, each token realm, "
        "every realm of a resolver, the realm changed) and an admin needs the right in **all** of them. "
        "Objects in no realm (a token or resolver in no realm, system settings, policies, machine resolvers, "
        "a resolver test with arbitrary settings) need an admin whose policy is bound to no realm. "
        "An admin policy bound to a resolver or a user counts as bound. While no admin policy exists, "
        "admins may do everything. A user acts only on their own tokens and data, with a user right that "
        "a user policy names (every right while no user policy exists).",
        "",
        "| method | path | roles | admin right | realms the admin right must cover | user right |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for declared in sorted(endpoints, key=lambda e: (e.path, e.method)):
        roles = "/".join(sorted(declared.roles)) or "public"
        access = declared.access or (PUBLIC if not declared.roles else UNDECLARED)
        lines.append(f"| {declared.method} | `{declared.path}` | {roles} | {_cell(access.admin)} | "
                     f"{_cell(access.realms)} | {_cell(access.user)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    from tesserad.admin_web.site import RESOURCES

    print(table(declared for resource in RESOURCES for _, declared in resource.endpoints()), end="")


if __name__ == "__main__":
    main()
