"""Alembic migrations of tesserad's schema (run by ``Database.upgrade``).

A package only so that setuptools ships ``env.py`` and ``versions/``. To add a revision:
upgrade a scratch database to head, change the models, then autogenerate and review::

    alembic -c core/store/migrations/alembic.ini -x url=sqlite:////tmp/schema.db upgrade head
    alembic -c core/store/migrations/alembic.ini -x url=sqlite:////tmp/schema.db \\
        revision --autogenerate --rev-id 0002_<what> -m "<what>"

Revisions are frozen: they use plain SQLAlchemy types, never the models.
"""
