"""The store under test, on SQLite and on a real PostgreSQL server (tests/conftest.py starts one per run)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.store import Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database of each kind: a new SQLite file, or a new database on the run's PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'predbot.db'}"
        return
    from tests.doubles.postgres import fresh_database

    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()
