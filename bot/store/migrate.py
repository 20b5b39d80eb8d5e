"""The store's schema, brought to Alembic's head at start: from empty, or from any earlier revision.

The migration scripts ship inside the package (`migrations/`), and the
Alembic Config is built here, so no alembic.ini is needed at run time. All
of a start's migrations run in one transaction that first takes a lock
(PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE), so two predbots
starting at once migrate one after the other, and the second finds nothing
left to do.

Most starts find the schema at head already. `to_head` sees that by reading
Alembic's version table and comparing it with HEAD, written here, and
imports Alembic (a tenth of a second) only when there is something to
migrate. A new revision sets HEAD to its own id (a test checks HEAD against
the scripts' head).

A new revision, from a checkout (compare the tables in tables.py with a database at head):

    python -c "from alembic import command; from bot.store.migrate import alembic_config; \
command.revision(alembic_config('sqlite:///var/predbot.db'), 'what changes', autogenerate=True)"
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from bot.store.engine import writing

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0004"               # the newest revision in migrations/versions
VERSION_TABLE = "alembic_version"
LOCK = 0x707265646274       # PostgreSQL's advisory lock key for migrating predbot's store ("predbt")


def to_head(engine: Engine) -> None:
    """Migrate the store's schema to HEAD, unless it is there already."""
    if not at_head(engine):
        upgrade(engine)


def at_head(engine: Engine) -> bool:
    """Whether the store's schema is at HEAD, read without Alembic."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return False
        return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all() == [HEAD]


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))     # the ini format's escape
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the store's schema to `revision` (tests also go back with `downgrade`)."""
    from alembic import command

    run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    run(engine, command.downgrade, revision)


def run(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config = alembic_config()
    with writing(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
        config.attributes["connection"] = connection
        step(config, revision)


def current(engine: Engine) -> str | None:
    """The revision the store's schema is at; None when it has none (empty)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def revisions() -> list[str]:
    """Every revision, oldest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]
