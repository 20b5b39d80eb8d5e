"""A slow or failing store never delays or breaks a reply: `record` returns at once and never raises; what cannot
be written is retried, counted, and logged by its prediction id."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest
from store_entries import entry

from bot.config import ConfigError
from bot.store import Entry, Store, migrate, open_store
from bot.store.engine import connect, writing
from bot.store.tables import metadata
from bot.store.writer import Limits, Writer
from tests.doubles.loop import wait_until
from tests.doubles.postgres import free_port

QUICK = Limits(attempts=3, backoff=0.01)


def not_recorded(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


@pytest.fixture
def quick_store(store_url: str) -> Iterator[Store]:
    """A migrated store that retries three times, 10 ms apart."""
    engine = connect(store_url)
    migrate.upgrade(engine)
    store = Store(engine, QUICK)
    yield store
    store.close(timeout=1)


def test_a_dropped_table_never_reaches_record_and_is_counted_and_logged(quick_store, caplog):
    metadata.drop_all(quick_store.engine)
    quick_store.record(entry(prediction_id="lost-one"))            # no exception: the reply goes out regardless
    assert quick_store.flush()
    assert quick_store.stats == {"recorded": 0, "retried": 2, "dropped": 0, "failed": 1}
    assert "1 predictions not recorded, not written: " in not_recorded(caplog)
    assert not_recorded(caplog).endswith(": lost-one")


def test_an_unreachable_postgresql_never_reaches_record_and_is_counted(caplog):
    store = Store(connect(f"postgresql://predbot@127.0.0.1:{free_port()}/predbot"), QUICK)
    try:
        store.record(entry(prediction_id="nowhere"))
        assert store.flush(30)
        assert (store.stats["failed"], store.stats["retried"]) == (1, 2)
        assert "OperationalError" in not_recorded(caplog) and "nowhere" in not_recorded(caplog)
    finally:
        store.close(timeout=1)


@contextmanager
def write_lock(store: Store) -> Iterator[None]:
    """Another connection holds the write lock (SQLite) or a lock on the table (PostgreSQL): writes wait."""
    with writing(store.engine) as other:                            # SQLite: BEGIN IMMEDIATE
        if other.dialect.name == "postgresql":
            other.exec_driver_sql("LOCK TABLE predictions IN EXCLUSIVE MODE")
        yield


def test_a_slow_store_never_delays_record_and_a_full_queue_drops_the_oldest_saying_which(store_url, caplog):
    engine = connect(store_url)
    migrate.upgrade(engine)
    store = Store(engine, Limits(capacity=3))
    try:
        with write_lock(store):
            store.record(entry(prediction_id="first"))
            wait_until(lambda: not store.writer.pending)            # the writer took it, and waits on the lock
            for n in range(1, 6):
                store.record(entry(prediction_id=f"then-{n}"))      # returns while the write still waits
            assert [e.prediction_id for e in store.writer.pending] == ["then-3", "then-4", "then-5"]
        assert store.flush(30)
        assert store.stats == {"recorded": 4, "retried": store.stats["retried"], "dropped": 2, "failed": 0}
        assert "pushed out of the store's full queue (3 waiting): then-1" in not_recorded(caplog)
        assert "then-2" in not_recorded(caplog)
        assert [r.entry.prediction_id for r in store.history("U123", limit=10)] == [
            "then-5", "then-4", "then-3", "first"]
    finally:
        store.close()


def test_closing_gives_up_on_what_cannot_be_written_at_once_and_says_so(caplog):
    store = Store(connect(f"postgresql://predbot@127.0.0.1:{free_port()}/predbot"), Limits(backoff=60))
    store.record(entry(prediction_id="in-retry"))
    wait_until(lambda: store.stats["retried"])                      # waiting a minute before its next try
    store.close(timeout=0.5)                                        # does not wait that minute
    assert store.stats["failed"] == 1 and "in-retry" in not_recorded(caplog)
    store.record(entry(prediction_id="too-late"))                   # after close: still no exception
    assert store.stats["dropped"] == 1 and "recorded after the store closed: too-late" in not_recorded(caplog)


def test_a_store_url_that_cannot_work_is_a_config_error_on_one_line_without_its_password():
    port = free_port()
    with pytest.raises(ConfigError) as refused:
        open_store(f"postgresql://predbot:s3cret@127.0.0.1:{port}/predbot")
    message = str(refused.value)
    assert message.startswith(f"the store postgresql://predbot:***@127.0.0.1:{port}/predbot cannot be used: ")
    assert message.endswith("(--store, $PREDBOT_STORE_URL)") and "\n" not in message and "s3cret" not in message


@pytest.mark.parametrize(("url", "why"), [("mysql://db/predbot", "is neither SQLite nor PostgreSQL"),
                                          ("not a url", "is not a database URL"),
                                          ("sqlite://", "keeps nothing: give SQLite a file")])
def test_a_store_url_of_the_wrong_kind_is_a_config_error(url, why):
    with pytest.raises(ConfigError, match=why):
        open_store(url)


# --- the writer's retry rules, with a database double that fails as told ------------------------------------


class Flaky:
    """Fails its first `failures` writes, and always on an entry whose id starts with "poison"."""

    def __init__(self, failures: int = 0) -> None:
        self.failures, self.written = failures, []

    def __call__(self, entries: Sequence[Entry]) -> None:
        if self.failures > 0 or any(e.prediction_id.startswith("poison") for e in entries):
            self.failures -= 1
            raise ConnectionError("the database went away")
        self.written += [e.prediction_id for e in entries]


def test_a_write_that_fails_for_a_while_is_retried_until_it_lands(caplog):
    database = Flaky(failures=2)
    writer = Writer(database, QUICK)
    writer.put(entry(prediction_id="late"))
    assert writer.flush(5)
    assert database.written == ["late"] and writer.snapshot() == {"recorded": 1, "retried": 2, "dropped": 0,
                                                                 "failed": 0}
    assert "could not write 1 predictions (ConnectionError: the database went away); trying again" in caplog.text
    writer.close(1)


def test_one_entry_the_database_refuses_does_not_take_its_batch_with_it(caplog):
    database, gate = Flaky(), threading.Event()
    writer = Writer(lambda entries: gate.wait(5) and database(entries), QUICK)
    writer.put(entry(prediction_id="before"))                       # held at the gate, so the rest make one batch
    wait_until(lambda: not writer.pending)
    for name in ("good-1", "poison", "good-2"):
        writer.put(entry(prediction_id=name))
    gate.set()
    assert writer.flush(5)
    assert database.written == ["before", "good-1", "good-2"]
    assert writer.snapshot()["failed"] == 1 and not_recorded(caplog).endswith(": poison")
    writer.close(1)
