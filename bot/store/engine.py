"""A store URL to a SQLAlchemy Engine set up for predbot: SQLite in WAL mode, or PostgreSQL through psycopg 3.

SQLite takes one writer at a time. In WAL mode readers never wait for it,
and a writer that finds another one waits (busy timeout) instead of failing.
SQLAlchemy, not the sqlite3 module, emits BEGIN (the recipe in SQLAlchemy's
SQLite notes), so that DDL is transactional and a transaction that writes
can begin with BEGIN IMMEDIATE: it takes the write lock up front, where a
deferred one that read first could fail at once when it tries to write.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.config import ConfigError

SQLITE_BUSY_SECONDS = 10        # a writer waits this long for another before its write fails (and is retried)
CONNECT_SECONDS = 10            # PostgreSQL: an unreachable server is an error after this, not a hang
WRITES = "predbot_writes"       # the execution option that makes SQLite begin with BEGIN IMMEDIATE


def shown(url: str) -> str:
    """The URL for messages and logs: its password, if any, as ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]


def connect(url: str) -> Engine:
    """An Engine for `url`; a URL that cannot be a store is a ConfigError. Nothing is connected yet."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"the store {shown(url)} is not a database URL: use sqlite:///FILE or "
                          "postgresql://USER@HOST/DATABASE (--store, $PREDBOT_STORE_URL)") from None
    match parsed.get_backend_name():
        case "sqlite":
            return sqlite_engine(parsed)
        case "postgresql" | "postgres":
            return postgresql_engine(parsed)
    raise ConfigError(f"the store {shown(url)} is neither SQLite nor PostgreSQL: use sqlite:///FILE or "
                      "postgresql://USER@HOST/DATABASE (--store, $PREDBOT_STORE_URL)")


def sqlite_engine(url: URL) -> Engine:
    if url.database in (None, "", ":memory:"):
        raise ConfigError(f"the store {url} keeps nothing: give SQLite a file, sqlite:///FILE "
                          "(--store, $PREDBOT_STORE_URL)")
    try:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"the store {url} cannot be created: {error.strerror} (--store, $PREDBOT_STORE_URL)") \
            from None
    engine = create_engine(url, json_serializer=to_json, connect_args={"timeout": SQLITE_BUSY_SECONDS})

    @event.listens_for(engine, "connect")
    def set_up(connection: Any, _: object) -> None:
        connection.isolation_level = None       # the sqlite3 module emits no BEGIN; begin() below does
        write_ahead(connection)
        for pragma in ("synchronous=NORMAL", "foreign_keys=ON"):
            connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITES) else "BEGIN")

    return engine


def write_ahead(connection: sqlite3.Connection) -> None:
    """Switch the file to WAL (it stays so). The switch needs the file to itself, and SQLite's busy timeout does
    not wait for that: a second predbot starting at the same moment as the first was refused with "database is
    locked". So wait here, as the busy timeout would, for the other to finish."""
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def postgresql_engine(url: URL) -> Engine:
    """psycopg 3 for `postgresql://` (SQLAlchemy's default there is psycopg2, which predbot does not install)."""
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    timeout = {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_SECONDS}
    # pre-ping: a pooled connection that a restarted server closed is replaced, not handed to a write
    return create_engine(url, json_serializer=to_json, pool_pre_ping=True, connect_args=timeout)


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that writes, committed at the end (rolled back on an error)."""
    with engine.connect().execution_options(**{WRITES: True}) as connection, connection.begin():
        yield connection


def to_json(value: object) -> str:
    """JSON both databases take: PostgreSQL refuses NaN and infinities, so they are kept as null."""
    return json.dumps(finite(value), default=str)


def finite(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    if hasattr(value, "item"):              # a numpy scalar
        return finite(value.item())
    return value
