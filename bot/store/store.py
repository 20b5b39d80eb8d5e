"""predbot's memory: every prediction with an id, its rows, and the feedback people give on them.

`record` hands an Entry to the writer thread and returns at once; reads go
to the database and see what has been written (`flush` waits for that).
`open_store` makes the schema current first, so a Store always reads and
writes the tables of tables.py. `shared` is what replicas decide together there (shared.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from importlib import import_module

from sqlalchemy import Engine, Insert, Table, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.config import ConfigError
from bot.store import codec, migrate, queries
from bot.store.accuracy import accuracies
from bot.store.engine import connect, shown, writing
from bot.store.entry import Accuracy, Entry, Recorded
from bot.store.export import flat
from bot.store.shared import Shared
from bot.store.tables import feedback, prediction_rows, predictions
from bot.store.writer import LIMITS, Limits, Writer, describe

CLOSE_SECONDS = 5.0     # for what is queued to be written when the store closes


class UnknownRow(LookupError):
    """Feedback on a prediction, or a row of it, that the store does not hold."""


class Store:
    def __init__(self, engine: Engine, limits: Limits = LIMITS) -> None:
        self.engine = engine
        self.insert = insert_ignoring_duplicates(engine)
        self.shared = Shared(engine)
        self.writer = Writer(self.write, limits, name=f"store-writer {shown(str(engine.url))}")

    def record(self, entry: Entry) -> None:
        """Queue `entry` to be written; never blocks, never raises (see writer.py for what happens when it can't)."""
        self.writer.put(entry)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything recorded so far is written (or given up: `stats`); False if `timeout` came first."""
        return self.writer.flush(timeout)

    @property
    def stats(self) -> dict[str, int]:
        """Counts of entries "recorded", "dropped" and "failed", and of writes "retried"."""
        return self.writer.snapshot()

    @property
    def waiting(self) -> int:
        """Entries recorded and not yet written."""
        return self.writer.waiting()

    def write(self, entries: Sequence[Entry]) -> None:
        """One transaction for a batch. An id already stored is skipped, so a retry after a commit whose answer
        was lost writes nothing twice."""
        with writing(self.engine) as connection:
            connection.execute(self.insert(predictions), [codec.prediction_values(entry) for entry in entries])
            if rows := [row for entry in entries for row in codec.row_values(entry)]:
                connection.execute(self.insert(prediction_rows), rows)

    def prediction(self, prediction_id: str) -> Recorded | None:
        with self.engine.connect() as connection:
            found = connection.execute(select(predictions).where(predictions.c.prediction_id == prediction_id)).all()
            return next(iter(queries.recorded(connection, found)), None)

    def history(self, sender: str, limit: int = 10, model: str | None = None) -> list[Recorded]:
        """The sender's latest predictions, newest first."""
        with self.engine.connect() as connection:
            return queries.recorded(connection, connection.execute(queries.history(sender, limit, model)).all())

    def last(self, channel: str, workspace: str, conversation: str, thread: str = "") -> Recorded | None:
        """The newest prediction or what-if answered in the conversation (a Slack thread or DM, a mail thread, a
        chat session), which a follow-up builds on; None when there is none."""
        with self.engine.connect() as connection:
            found = connection.execute(queries.last(channel, workspace, conversation, thread)).all()
            return next(iter(queries.recorded(connection, found)), None)

    def add_feedback(self, prediction_id: str, row: int, actual: str, sender: str) -> None:
        """Keep what `sender` says row `row` of the prediction really was; UnknownRow if the store has no such row."""
        try:
            with writing(self.engine) as connection:
                connection.execute(feedback.insert().values(prediction_id=prediction_id, row_index=row,
                                                            actual=actual, sender=sender, at=datetime.now(UTC)))
        except IntegrityError:
            raise UnknownRow(f"no row {row} of prediction {prediction_id} is recorded") from None

    def accuracy(self, model: str) -> list[Accuracy]:
        """Per version of `model` that has feedback, newest first."""
        with self.engine.connect() as connection:
            return accuracies(model, connection.execute(queries.judged(model)))

    def export(self, since: datetime | None = None, model: str | None = None) -> Iterator[dict[str, object]]:
        """One flat dict per row recorded since `since` (of `model`), oldest first, streamed (see export.py)."""
        with self.engine.connect() as connection:
            lines = connection.execution_options(yield_per=1000).execute(queries.exported(since, model))
            for line in lines:
                yield flat(line._mapping)

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        """Write what is queued (for up to `timeout`), stop the writer, close the connections. Idempotent."""
        self.writer.close(timeout)
        self.engine.dispose()


def insert_ignoring_duplicates(engine: Engine) -> Callable[[Table], Insert]:
    """The engine's dialect's INSERT ... ON CONFLICT DO NOTHING (its module is loaded already, with the engine)."""
    insert = import_module(f"sqlalchemy.dialects.{engine.dialect.name}").insert
    return lambda table: insert(table).on_conflict_do_nothing()


def open_store(url: str) -> Store:
    """The store at `url`, its schema migrated to the latest revision; a ConfigError if it cannot be used."""
    engine = connect(url)
    try:
        migrate.to_head(engine)
    except (SQLAlchemyError, OSError) as error:
        engine.dispose()
        raise ConfigError(f"the store {shown(url)} cannot be used: {describe(error)} (--store, $PREDBOT_STORE_URL)") \
            from None
    return Store(engine)
