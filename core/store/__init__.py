"""The SQL store: SQLAlchemy models, Alembic migrations and the ``Database`` handle.

The core works on plain SQLAlchemy sessions from ``Database.session()``; every schema
change ships as an Alembic revision under ``migrations/versions`` so that SQLite,
PostgreSQL and MariaDB installations upgrade the same way.
"""

from tesserad.core.store.database import Database

__all__ = ["Database"]
