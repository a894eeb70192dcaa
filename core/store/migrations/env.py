"""Alembic environment for tesserad's schema.

``Database.upgrade`` passes its connection in ``config.attributes["connection"]``,
already inside the transaction (and lock) it holds. The Alembic command line, used by
developers to autogenerate revisions, connects to ``-x url=<database URL>`` instead.
"""

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from tesserad.core.store.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; Alembic rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database to migrate as: alembic -x url=<database URL> ...")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


main()
