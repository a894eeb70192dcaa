"""Creating the tokens of a parsed seed file, in batches that each commit on their own.

A file of tens of thousands of tokens in one transaction would hold the database's write
lock for minutes, and every login that writes (a counter, a fail count, the audit) would
wait for it or fail. So the tokens go in batches of ``BATCH_SIZE``, each one transaction
that holds the lock only for its own inserts, so logins interleave between batches; a
batch that meets a lock conflict is rolled back and run again (``commit_retrying``). New
serials are created together (one INSERT per table); a serial that exists already is
initialized anew (privacyIDEA's rule) in a savepoint of the batch, so one bad token does
not undo the others.

If a batch still fails, the import stops there: the batches before it stay imported and
the ``ImportStopped`` error says how many tokens that is; loading the file again imports
the rest (and initializes the imported ones anew).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from tesserad.core.errors import DatabaseError, TesseraError
from tesserad.core.store.models import Token
from tesserad.core.store.writes import begin_write, commit_retrying
from tesserad.core.tokens.base import TokenClass
from tesserad.core.tokens.importers.base import ImportedToken, Owner, ParsedFile
from tesserad.core.tokens.service import TokenService
from tesserad.core.users.base import User, UserError
from tesserad.core.users.directory import Directory

# Tokens per transaction: large enough that a batch's fixed costs do not count, small
# enough that it holds the write lock for some 20 ms (measured on SQLite: median 16 ms).
BATCH_SIZE = 250

# Raises unless the caller may overwrite the existing token / assign to the user.
ExistingCheck = Callable[[TokenClass], None]
UserCheck = Callable[[User], None]


@dataclass
class LoadResult:
    imported: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class ImportStopped(DatabaseError):
    """A batch could not be written: the tokens of the batches before it stay imported."""

    def __init__(self, imported: int, total: int, reason: str):
        super().__init__(f"token import stopped after {imported} of {total} tokens, which stay imported "
                         f"(load the file again for the rest): {reason}")


class TokenLoader:
    """Loads a file within ``session``, committing it batch by batch: the caller's pending
    changes are committed with the first batch."""

    def __init__(self, session: Session, tokens: TokenService, directory: Directory):
        self.session = session
        self.tokens = tokens
        self.directory = directory

    def owners(self, parsed: ParsedFile, check: UserCheck) -> dict[str, User]:
        """The users of version 2 lines by serial, each looked up and checked once; an
        unknown user refuses the whole file."""
        users: dict[Owner, User] = {}
        found: dict[str, User] = {}
        for token in parsed.tokens:
            owner = token.owner
            if owner is None:
                continue
            if owner not in users:
                user = self.directory.find_user(self.session, owner.login, owner.realm)
                if not user.exists or (owner.resolver and user.resolver != owner.resolver):
                    raise UserError(f"User {owner.login} does not exist in realm {owner.realm} "
                                    f"(resolver {owner.resolver})")
                check(user)
                users[owner] = user
            found[token.serial] = users[owner]
        return found

    def load(self, parsed: ParsedFile, realms: list[str], check: ExistingCheck,
             owners: dict[str, User]) -> LoadResult:
        result = LoadResult(failed=dict(parsed.failed))
        for batch in _batches(parsed.tokens):
            try:
                failed = commit_retrying(self.session, partial(self._batch, batch=batch, realms=realms, check=check,
                                                               owners=owners))
            except (DatabaseError, SQLAlchemyError) as exc:
                cause = exc.orig if isinstance(exc, DBAPIError) else exc  # without the statement's parameters
                reason = " ".join(str(cause).split()) or type(cause).__name__
                raise ImportStopped(len(result.imported), len(parsed.tokens), reason) from exc
            result.imported += [token.serial for token in batch if token.serial not in failed]
            result.failed.update(failed)
        return result

    def _batch(self, session: Session, batch: list[ImportedToken], realms: list[str], check: ExistingCheck,
               owners: dict[str, User]) -> dict[str, str]:
        """One batch in the session's transaction; why each token that failed did."""
        serials = [token.serial for token in batch]
        existing = set(session.scalars(select(Token.serial).where(Token.serial.in_(serials))))
        fresh = [token for token in batch if token.serial not in existing]
        built, failed = self.tokens.build_new(session, [(t.init_params(), owners.get(t.serial)) for t in fresh],
                                              realms)
        counters = {token.serial: token.counter for token in fresh}
        for token in built:
            token.row.count = counters[token.serial]
        begin_write(session)
        self.tokens.insert_new(session, built)
        for imported in batch:
            if imported.serial in existing:
                try:
                    with session.begin_nested():
                        self._reinitialize(session, imported, realms, check, owners.get(imported.serial))
                except TesseraError as exc:
                    failed[imported.serial] = str(exc)
        return failed

    def _reinitialize(self, session: Session, imported: ImportedToken, realms: list[str], check: ExistingCheck,
                      owner: User | None) -> None:
        existing = self.tokens.get(session, imported.serial)
        check(existing)
        if owner is not None:
            existing.row.owners.clear()
        token, _ = self.tokens.init(session, imported.init_params(), owner)
        token.row.count = imported.counter
        if realms:
            self.tokens.set_realms(session, token.serial, realms)


def _batches(tokens: list[ImportedToken]) -> Iterator[list[ImportedToken]]:
    """Runs of at most BATCH_SIZE tokens; a serial seen in the current batch starts the
    next one, where it exists already and is initialized anew."""
    batch: list[ImportedToken] = []
    serials: set[str] = set()
    for token in tokens:
        if len(batch) == BATCH_SIZE or token.serial in serials:
            yield batch
            batch, serials = [], set()
        batch.append(token)
        serials.add(token.serial)
    if batch:
        yield batch
