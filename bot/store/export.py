"""`predbot export`: the recorded predictions as a CSV or Parquet file, one line per row.

A line has the prediction's id, time, channel, sender, model and version;
the row's inputs and prediction; a `probability_<label>` column per class;
its drivers as `driver_N` (the feature), `driver_N_value` and
`driver_N_contribution`, strongest first; its warnings (one a line), why it
was not predicted, and the latest `actual` people reported. Models differ
in classes and drivers, so the file's columns are read in a first pass over
the query, and its lines written in a second; both stream, so an export
takes memory for its columns, not its rows.

The file is written beside its destination and renamed over it only once
complete, as `predbot score -o` does: a failed export leaves an earlier file
as it was.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from itertools import batched
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.files import replaced

if TYPE_CHECKING:
    from bot.store.store import Store

HEAD = ("prediction_id", "at", "channel", "sender", "model", "version", "kind", "row", "inputs", "prediction", "value")
MIDDLE = ("base_value", "drivers_for")
TAIL = ("warnings", "reason", "actual")
NUMBERS = ("value", "base_value")               # besides probability_* and driver_N_contribution
PARQUET_BATCH = 10_000


def flat(row: Mapping[str, Any]) -> dict[str, object]:
    """One row of a recorded prediction as one line of the export."""
    line: dict[str, object] = {"prediction_id": row["prediction_id"], "at": row["at"], "channel": row["channel"],
                               "sender": row["sender"], "model": row["model"], "version": row["version"],
                               "kind": row["kind"], "row": row["row_index"], "inputs": row["inputs"],
                               "prediction": row["prediction"], "value": row["value"]}
    line |= {f"probability_{label}": p for label, p in row["probabilities"].items()}
    line |= {"base_value": row["base_value"], "drivers_for": row["drivers_for"]}
    for number, driver in enumerate(row["drivers"], 1):
        line |= {f"driver_{number}": driver.get("feature"), f"driver_{number}_value": driver.get("value"),
                 f"driver_{number}_contribution": driver.get("contribution")}
    return line | {"warnings": "\n".join(row["warnings"]), "reason": row["reason"], "actual": row["actual"]}


def columns(lines: Iterable[Mapping[str, object]]) -> list[str]:
    """Every column the lines have, in the order `flat` gives them: each class and driver once."""
    labels: dict[str, None] = {}
    drivers = 0
    for line in lines:
        labels |= dict.fromkeys(key for key in line if key.startswith("probability_"))
        drivers = max(drivers, sum(key.endswith("_contribution") for key in line))
    driven = [f"driver_{n}{part}" for n in range(1, drivers + 1) for part in ("", "_value", "_contribution")]
    return [*HEAD, *labels, *MIDDLE, *driven, *TAIL]


def is_number(column: str) -> bool:
    return column in NUMBERS or column.startswith("probability_") or column.endswith("_contribution")


def write_csv(lines: Iterable[Mapping[str, object]], header: list[str], path: Path) -> int:
    written = 0
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, header, extrasaction="ignore")
        writer.writeheader()
        for line in lines:
            writer.writerow({key: value.isoformat() if isinstance(value, datetime) else value
                             for key, value in line.items()})
            written += 1
    return written


def write_parquet(lines: Iterable[Mapping[str, object]], header: list[str], path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"at": pa.timestamp("us", tz="UTC"), "row": pa.int64()}
    schema = pa.schema([(name, types.get(name, pa.float64() if is_number(name) else pa.string())) for name in header])
    written = 0
    with pq.ParquetWriter(path, schema) as writer:
        for chunk in batched(lines, PARQUET_BATCH):
            writer.write_batch(pa.RecordBatch.from_pylist(list(chunk), schema=schema))
            written += len(chunk)
    return written


WRITERS: dict[str, Callable[[Iterable[Mapping[str, object]], list[str], Path], int]] = {
    ".csv": write_csv, ".parquet": write_parquet}


def export_file(store: Store, path: Path, since: datetime | None = None, model: str | None = None) -> int:
    """The predictions since `since` (of `model`) into `path`, CSV or Parquet by its suffix; the lines written."""
    write = WRITERS[path.suffix.lower()]
    header = columns(store.export(since, model))
    with replaced(path) as new:
        return write(store.export(since, model), header, new.path)
