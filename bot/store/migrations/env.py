"""Alembic's environment for the store: `bot.store.migrate` runs it inside the transaction it opened.

A connection handed over in `config.attributes` is used as it is (the migration then commits or rolls back with
the caller's transaction); without one, as for `alembic revision --autogenerate`, the config's URL is opened.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from bot.store.tables import metadata


def run(connection: Connection) -> None:
    # SQLite alters a table by copying it (batch mode); PostgreSQL alters in place
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if (given := context.config.attributes.get("connection")) is not None:
    run(given)
else:
    with create_engine(context.config.get_main_option("sqlalchemy.url")).begin() as opened:
        run(opened)
