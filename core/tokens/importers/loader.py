"""Creating the tokens of a parsed seed file: each in a savepoint, so one bad token does
not undo the others, and a re-imported serial is initialized anew (privacyIDEA's rule)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session
from tesserad.core.errors import TesseraError
from tesserad.core.tokens.base import TokenClass
from tesserad.core.tokens.importers.base import ImportedToken, ParsedFile
from tesserad.core.tokens.service import TokenService
from tesserad.core.users.base import User, UserError
from tesserad.core.users.directory import Directory

# Raises unless the caller may overwrite the existing token / assign to the user.
ExistingCheck = Callable[[TokenClass], None]
UserCheck = Callable[[User], None]


@dataclass
class LoadResult:
    imported: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class TokenLoader:
    def __init__(self, session: Session, tokens: TokenService, directory: Directory):
        self.session = session
        self.tokens = tokens
        self.directory = directory

    def owners(self, parsed: ParsedFile, check: UserCheck) -> dict[str, User]:
        """The users of version 2 lines by serial; an unknown user refuses the whole file."""
        found: dict[str, User] = {}
        for token in parsed.tokens:
            if token.owner is None:
                continue
            user = self.directory.find_user(self.session, token.owner.login, token.owner.realm)
            if not user.exists or (token.owner.resolver and user.resolver != token.owner.resolver):
                raise UserError(f"User {token.owner.login} does not exist in realm {token.owner.realm} "
                                f"(resolver {token.owner.resolver})")
            check(user)
            found[token.serial] = user
        return found

    def load(self, parsed: ParsedFile, realms: list[str], check: ExistingCheck,
             owners: dict[str, User]) -> LoadResult:
        result = LoadResult(failed=dict(parsed.failed))
        for token in parsed.tokens:
            try:
                with self.session.begin_nested():
                    self._create(token, realms, check, owners.get(token.serial))
            except TesseraError as exc:
                result.failed[token.serial] = str(exc)
            else:
                result.imported.append(token.serial)
        return result

    def _create(self, imported: ImportedToken, realms: list[str], check: ExistingCheck, owner: User | None) -> None:
        existing = self.tokens.find(self.session, imported.serial)
        if existing is not None:
            check(existing)
            if owner is not None:
                existing.row.owners.clear()
        token, _ = self.tokens.init(self.session, imported.init_params(), owner)
        token.row.count = imported.counter
        if realms:
            self.tokens.set_realms(self.session, token.serial, realms)
