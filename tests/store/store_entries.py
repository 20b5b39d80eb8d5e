"""Entries as the core records them: a churn prediction (a classifier) and a diabetes one (a regressor)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from bot.store import Entry, EntryRow

START = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)
numbers = itertools.count()


def churn_row(index: int = 0, prediction: str = "churns") -> EntryRow:
    return EntryRow(index=index, inputs="age=45, income=60000", prediction=prediction, value=None,
                    probabilities={"stays": 0.24, "churns": 0.76},
                    drivers=({"feature": "support_calls", "value": "4", "contribution": 0.272, "direction": "up"},
                             {"feature": "contract", "value": "month-to-month", "contribution": 0.119,
                              "direction": "up"}),
                    base_value=0.31, drivers_for="churns",
                    warnings=("Not given, so the model filled them in: plan.",), reason=None)


def diabetes_row(index: int = 0, value: float = 151.25) -> EntryRow:
    return EntryRow(index=index, inputs="age=50, bmi=30", prediction=f"{value:,.4g}", value=value, probabilities={},
                    drivers=({"feature": "bmi", "value": "30", "contribution": 41.5, "direction": "up"},),
                    base_value=152.1, drivers_for=None, warnings=(), reason=None)


def unpredicted_row(index: int) -> EntryRow:
    return EntryRow(index=index, inputs="age=sixty", prediction=None, value=None, probabilities={}, drivers=(),
                    base_value=None, drivers_for=None, warnings=(), reason="age expects a number, got 'sixty'.")


def entry(*rows: EntryRow, sender: str = "U123", model: str = "churn", version: str = "84d96f5ecf",
          at: datetime | None = None, prediction_id: str | None = None, text: str = "predict: age=45, income=60000",
          kind: str = "prediction") -> Entry:
    number = next(numbers)
    rows = rows or (churn_row(),)
    return Entry(prediction_id=prediction_id or f"p{number:011d}", at=at or START + timedelta(seconds=number),
                 channel="slack", workspace="T42", conversation="C7", thread="1733045415.000100", sender=sender,
                 text=text, model=model, version=version, kind=kind,
                 reply={"status": "ok", "model": model, "version": version, "prediction_id": "x",
                        "body": {"type": "prediction", "rows": [{"inputs": row.inputs, "prediction": row.prediction}
                                                                for row in rows], "scale": "pts"}, "files": []},
                 rows=rows, timings={"parse": 0.0004, "score": 0.0121, "total": 0.0131})
