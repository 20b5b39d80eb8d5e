"""Entries to table rows and back: the one place that knows which field goes in which column."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.store.entry import Entry, EntryRow, Recorded

TEXT_CHARS = 2000       # of a command's text; the reply and the rows keep what it said in full

ENTRY_COLUMNS = ("at", "channel", "workspace", "conversation", "thread", "sender", "model", "version", "kind",
                 "reply", "timings")


def prediction_values(entry: Entry) -> dict[str, Any]:
    return {"prediction_id": entry.prediction_id, "text": entry.text[:TEXT_CHARS],
            **{name: getattr(entry, name) for name in ENTRY_COLUMNS}}


def row_values(entry: Entry) -> list[dict[str, Any]]:
    return [{"prediction_id": entry.prediction_id, "row_index": row.index, "inputs": row.inputs,
             "prediction": row.prediction, "value": row.value, "probabilities": row.probabilities,
             "drivers": list(row.drivers), "base_value": row.base_value, "drivers_for": row.drivers_for,
             "warnings": list(row.warnings), "reason": row.reason} for row in entry.rows]


def entry_from(prediction: Mapping[str, Any], rows: Iterable[Mapping[str, Any]]) -> Entry:
    return Entry(prediction_id=prediction["prediction_id"], text=prediction["text"],
                 **{name: prediction[name] for name in ENTRY_COLUMNS},
                 rows=tuple(EntryRow(index=row["row_index"], inputs=row["inputs"], prediction=row["prediction"],
                                     value=row["value"], probabilities=row["probabilities"],
                                     drivers=tuple(row["drivers"]), base_value=row["base_value"],
                                     drivers_for=row["drivers_for"], warnings=tuple(row["warnings"]),
                                     reason=row["reason"]) for row in rows))


def recorded_from(prediction: Mapping[str, Any], rows: Iterable[Mapping[str, Any]],
                  feedback: Sequence[Mapping[str, Any]]) -> Recorded:
    return Recorded(entry_from(prediction, rows),
                    tuple((report["row_index"], report["actual"], report["sender"], report["at"])
                          for report in feedback))
