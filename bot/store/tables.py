"""The store's tables, as SQLAlchemy Core sees them; the migrations in `migrations/versions/` create exactly these
(tests/store checks that the two agree on SQLite and PostgreSQL).

predictions     one per answer that has an id; `reply` is Reply.to_dict() so `show ID` renders it again
prediction_rows one per row of it, with what the model said (label, raw value, probabilities, drivers, warnings)
feedback        the real outcome of a row, as people report it; every report is kept, the latest counts
claims, rate_slots, pending
                what replicas decide together (shared.py); their times are seconds since the epoch
batch_jobs      files to score now or on a schedule (bot.jobs): what, whose, when next, and who runs it until when
batch_runs      each run of a job: when, how far it got, what became of the rows, the result file's name
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (JSON, Boolean, Column, Dialect, Double, ForeignKey, ForeignKeyConstraint, Index, Integer,
                        MetaData, Table, Text)
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out. SQLite keeps no time zone, so it gets UTC without one and gives it back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CleanText(TypeDecorator):
    """Text that PostgreSQL takes: it refuses the NUL character, which a mail or a paste may hold."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return value.replace("\x00", "\ufffd") if value else value


# Named constraints and indexes, so that migrations can name what they change on every database.
metadata = MetaData(naming_convention={"ix": "ix_%(table_name)s_%(column_0_N_name)s",
                                       "uq": "uq_%(table_name)s_%(column_0_N_name)s",
                                       "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
                                       "pk": "pk_%(table_name)s"})

predictions = Table(
    "predictions", metadata,
    Column("prediction_id", CleanText, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("channel", CleanText, nullable=False),
    Column("workspace", CleanText, nullable=False),
    Column("conversation", CleanText, nullable=False),
    Column("thread", CleanText, nullable=False),
    Column("sender", CleanText, nullable=False),
    Column("text", CleanText, nullable=False),
    Column("model", CleanText, nullable=False),
    Column("version", CleanText, nullable=False),
    Column("kind", CleanText, nullable=False),
    Column("reply", JSON, nullable=False),
    Column("timings", JSON, nullable=False),
    Index(None, "sender", "at"),            # history: a sender's newest first
    Index(None, "at"),                      # export --since
    Index(None, "model", "at"),             # export --model, accuracy per model
    Index(None, "conversation", "thread", "at"),  # a conversation's last prediction, for follow-ups
)

prediction_rows = Table(
    "prediction_rows", metadata,
    Column("prediction_id", CleanText, ForeignKey(predictions.c.prediction_id, ondelete="CASCADE"),
           primary_key=True),
    Column("row_index", Integer, primary_key=True, autoincrement=False),
    Column("inputs", CleanText, nullable=False),
    Column("prediction", CleanText),
    Column("value", Double),
    Column("probabilities", JSON, nullable=False),
    Column("drivers", JSON, nullable=False),
    Column("base_value", Double),
    Column("drivers_for", CleanText),
    Column("warnings", JSON, nullable=False),
    Column("reason", CleanText),
)

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True),
    Column("prediction_id", CleanText, nullable=False),
    Column("row_index", Integer, nullable=False),
    Column("actual", CleanText, nullable=False),
    Column("sender", CleanText, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["prediction_id", "row_index"],
                         [prediction_rows.c.prediction_id, prediction_rows.c.row_index], ondelete="CASCADE"),
    Index(None, "prediction_id", "row_index"),
)

claims = Table(
    "claims", metadata,
    Column("key", CleanText, primary_key=True),
    Column("owner", CleanText, nullable=False),
    Column("until", Double, nullable=False),
    Index(None, "until"),                   # prune
)

rate_slots = Table(
    "rate_slots", metadata,
    Column("subject", CleanText, primary_key=True),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("until", Double, nullable=False),
    Index(None, "until"),                   # prune
)

pending = Table(
    "pending", metadata,
    Column("key", CleanText, primary_key=True),
    Column("payload", JSON, nullable=False),
    Column("owner", CleanText, nullable=False),
    Column("lease_until", Double, nullable=False),
    Column("at", Double, nullable=False),
    Column("attempts", Integer, nullable=False),
    Index(None, "lease_until"),             # take_expired
    Index(None, "owner"),                   # renew
)

batch_jobs = Table(
    "batch_jobs", metadata,
    Column("job_id", CleanText, primary_key=True),
    Column("owner", CleanText, nullable=False),
    Column("model", CleanText, nullable=False),
    Column("source_kind", CleanText, nullable=False),   # input (under the input directory), upload or local
    Column("source", CleanText, nullable=False),        # its path: relative to its directory, or absolute (local)
    Column("source_name", CleanText, nullable=False),   # what its owner called it
    Column("format", CleanText, nullable=False),        # of the results: csv or parquet
    Column("top_k", Integer),                           # drivers per row; null: the model card's
    Column("rrule", CleanText),                         # null: run once
    Column("timezone", CleanText),
    Column("starts", Double),
    Column("ends", Double),
    Column("only_when_changed", Boolean, nullable=False),
    Column("status", CleanText, nullable=False),
    Column("next_run", Double),                         # when it is due next; null: never again
    Column("created", Double, nullable=False),
    Column("version", Integer, nullable=False),         # counts every change: a claim takes the version it read
    Column("lease_owner", CleanText),                   # the process running it, while one is
    Column("lease_until", Double),
    Column("last_digest", CleanText),                   # sha256 of the input its last finished run read
    Column("skipped", Integer, nullable=False),         # ticks skipped because the input had not changed
    Index(None, "owner", "created"),                    # a caller's jobs
    Index(None, "next_run"),                            # what is due
    Index(None, "lease_until"),                         # runs whose process died
)

batch_runs = Table(
    "batch_runs", metadata,
    Column("job_id", CleanText, ForeignKey(batch_jobs.c.job_id, ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("status", CleanText, nullable=False),        # running, done, failed, cancelled
    Column("started", Double, nullable=False),
    Column("finished", Double),
    Column("attempts", Integer, nullable=False),        # 1, and one more each time a lapsed run is taken over
    Column("rows_done", Integer, nullable=False),
    Column("rows_total", Integer),
    Column("not_predicted", Integer),
    Column("reasons", JSON),                            # why rows were not predicted: label -> count
    Column("error", CleanText),                         # why the file was not scored, in words
    Column("digest", CleanText),
    Column("output", CleanText),                        # the result file's name, once written
)
