"""What the store's reads ask the database: predictions with their rows and feedback, the latest feedback on each
row, and one flat line per row for export."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, Subquery, and_, func, select

from bot.store import codec
from bot.store.entry import Recorded
from bot.store.tables import feedback, prediction_rows, predictions


def recorded(connection: Connection, found: Sequence[Row]) -> list[Recorded]:
    """`found` (rows of `predictions`) with their rows and feedback: three queries however many there are."""
    ids = [prediction.prediction_id for prediction in found]
    rows, reports = defaultdict(list), defaultdict(list)
    for row in connection.execute(select(prediction_rows).where(prediction_rows.c.prediction_id.in_(ids))
                                  .order_by(prediction_rows.c.prediction_id, prediction_rows.c.row_index)):
        rows[row.prediction_id].append(row._mapping)
    for report in connection.execute(select(feedback).where(feedback.c.prediction_id.in_(ids))
                                     .order_by(feedback.c.at, feedback.c.id)):
        reports[report.prediction_id].append(report._mapping)
    return [codec.recorded_from(p._mapping, rows[p.prediction_id], reports[p.prediction_id]) for p in found]


def history(sender: str, limit: int, model: str | None) -> Select:
    query = select(predictions).where(predictions.c.sender == sender)
    if model is not None:
        query = query.where(predictions.c.model == model)
    return query.order_by(predictions.c.at.desc(), predictions.c.prediction_id.desc()).limit(limit)


def last(channel: str, workspace: str, conversation: str, thread: str) -> Select:
    """The conversation's newest prediction or what-if: a follow-up (`whatif: income=80000`) is built on it."""
    return (select(predictions).where(predictions.c.channel == channel, predictions.c.workspace == workspace,
                                      predictions.c.conversation == conversation, predictions.c.thread == thread)
            .order_by(predictions.c.at.desc(), predictions.c.prediction_id.desc()).limit(1))


def latest_feedback() -> Subquery:
    """The latest report on each (prediction, row): people correct themselves, and the last word counts."""
    ranked = select(feedback.c.prediction_id, feedback.c.row_index, feedback.c.actual,
                    func.row_number().over(partition_by=(feedback.c.prediction_id, feedback.c.row_index),
                                           order_by=(feedback.c.at.desc(), feedback.c.id.desc())).label("rank")
                    ).subquery("ranked")
    return (select(ranked.c.prediction_id, ranked.c.row_index, ranked.c.actual)
            .where(ranked.c.rank == 1).subquery("latest"))


def rows_with_actuals(*where: Any, outer: bool) -> Select:
    """Each row of a prediction beside its latest feedback (`outer`: also rows without any)."""
    latest = latest_feedback()
    same_row = and_(latest.c.prediction_id == prediction_rows.c.prediction_id,
                    latest.c.row_index == prediction_rows.c.row_index)
    joined = predictions.join(prediction_rows, prediction_rows.c.prediction_id == predictions.c.prediction_id)
    joined = joined.outerjoin(latest, same_row) if outer else joined.join(latest, same_row)
    return select(predictions.c.prediction_id, predictions.c.at, predictions.c.channel, predictions.c.sender,
                  predictions.c.model, predictions.c.version, predictions.c.kind,
                  *(prediction_rows.c[name] for name in ("row_index", "inputs", "prediction", "value",
                                                         "probabilities", "base_value", "drivers_for", "drivers",
                                                         "warnings", "reason")),
                  latest.c.actual).select_from(joined).where(*where)


def judged(model: str) -> Select:
    """The model's predicted rows that have feedback, for accuracy."""
    return rows_with_actuals(predictions.c.model == model, prediction_rows.c.prediction.is_not(None), outer=False)


def exported(since: datetime | None, model: str | None) -> Select:
    where = [predictions.c.at >= since] if since is not None else []
    where += [predictions.c.model == model] if model is not None else []
    return rows_with_actuals(*where, outer=True).order_by(predictions.c.at, predictions.c.prediction_id,
                                                          prediction_rows.c.row_index)
