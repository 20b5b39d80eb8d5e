"""The schema is made and migrated at start: from empty and from every earlier revision, to exactly tables.py."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bot.config import ConfigError
from bot.store import migrate, open_store
from bot.store.engine import connect
from bot.store.tables import metadata


def differences(engine) -> list:
    """What the database's schema lacks or has beyond tables.py (tables, columns, types, indexes, keys)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


@pytest.mark.parametrize("earlier", [None, *migrate.revisions()[:-1]])
def test_an_empty_database_or_one_at_any_earlier_revision_is_migrated_to_the_latest(store_url, earlier):
    """None: the empty database; with one revision so far, that is the only earlier one."""
    engine = connect(store_url)
    if earlier is not None:
        migrate.upgrade(engine, earlier)
    assert migrate.current(engine) == earlier
    engine.dispose()
    store = open_store(store_url)
    try:
        assert migrate.current(store.engine) == migrate.revisions()[-1]
        assert differences(store.engine) == []
    finally:
        store.close()


def test_every_revision_goes_down_and_up_again(store_url):
    engine = connect(store_url)
    try:
        migrate.upgrade(engine)
        for revision in reversed([None, *migrate.revisions()[:-1]]):
            migrate.downgrade(engine, revision or "base")
            assert migrate.current(engine) == revision
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_two_predbots_starting_at_once_both_find_the_schema_made(store_url):
    opened, failed = [], []
    both = threading.Barrier(2)

    def start() -> None:
        both.wait()
        try:
            opened.append(open_store(store_url))
        except ConfigError as error:
            failed.append(error)

    starting = [threading.Thread(target=start) for _ in range(2)]
    for thread in starting:
        thread.start()
    for thread in starting:
        thread.join(60)
    for store in opened:
        store.close()
    assert (len(opened), failed) == (2, [])


def test_sqlite_runs_in_wal_mode(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'deep' / 'er' / 'predbot.db'}")   # its directory made as needed
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.close()


def test_head_is_the_head_of_the_migration_scripts():
    assert migrate.HEAD == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


def imported_opening(url: str) -> set[str]:
    """Which of Alembic and SQLAlchemy's dialects opening the store at `url`, in a new process, imports."""
    probe = f"""
import sys
from bot.store import open_store
open_store({url!r}).close()
print(*sorted({{"alembic", "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql"}} & set(sys.modules)))
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_a_store_at_head_opens_without_alembic_and_an_earlier_one_with_it(store_url):
    dialect = f"sqlalchemy.dialects.{store_url.partition(':')[0].partition('+')[0]}"
    engine = connect(store_url)
    try:
        migrate.upgrade(engine, migrate.revisions()[-2])
        assert not migrate.at_head(engine)
        assert "alembic" in imported_opening(store_url)                 # migrated, so now at head
        assert migrate.at_head(engine)
        assert imported_opening(store_url) == {dialect}                 # of the dialects, only its own
    finally:
        engine.dispose()


def test_an_empty_store_is_not_at_head(store_url):
    engine = connect(store_url)
    try:
        assert not migrate.at_head(engine)
    finally:
        engine.dispose()
