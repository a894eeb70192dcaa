"""The exceptions the core raises.

Each edge catches ``TesseraError`` once and turns it into its protocol's answer
(an exit status, a JSON error object, a RADIUS reject, a PAM return code), except
``Unavailable``, which each edge answers as "ask again elsewhere or later" instead of "no".
Messages are written for the operator and never contain secret material.
"""


class TesseraError(Exception):
    """Base of every error tesserad raises on purpose."""


class ConfigError(TesseraError):
    """The configuration cannot be used: names the file, the key and the reason."""

    def __init__(self, reason: str, *, path: str | None = None, key: str | None = None):
        self.reason = reason
        self.path = path
        self.key = key
        where = ": ".join(part for part in (path, key) if part)
        super().__init__(f"{where}: {reason}" if where else reason)


class StartupError(TesseraError):
    """The daemon cannot start (port in use, unwritable data directory, unsafe key file)."""


class KeyFileError(TesseraError):
    """A key file is missing, unreadable, malformed or has unsafe permissions."""


class DecryptionError(TesseraError):
    """A ciphertext was tampered with, truncated, or encrypted under an unknown key."""


class DeliveryError(TesseraError):
    """An outbox message could not be delivered. ``permanent``: retrying cannot help (a
    refused recipient, a definition that no longer exists). The text goes to the audit, so
    it never holds the message itself."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.permanent = permanent


class Unavailable(TesseraError):
    """A part the answer depends on (the database, a user store, the key store) cannot be
    reached now. This is not a "no": another server, or this one a moment later, may
    decide. RADIUS sends no answer (the NAS fails over), PAM answers PAM_AUTHINFO_UNAVAIL,
    HTTP answers 503. A store that answers and refuses (no such user, wrong password, a
    misconfigured query) is not unavailable: every server would answer the same."""


class DatabaseError(TesseraError):
    """The database cannot be reached or used."""


class SchemaError(DatabaseError):
    """The database schema is not the one this version of tesserad can run against."""


class DatabaseUnavailable(DatabaseError, Unavailable):
    """The database does not answer: refused or lost connections, no connection slot."""


class DatabaseBusy(DatabaseUnavailable):
    """A write found the database locked by other writers for longer than it may wait;
    trying again later can succeed."""


class AdminError(TesseraError):
    """An administrator account operation cannot be carried out."""
