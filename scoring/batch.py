"""Score a CSV file in chunks: every input column, then predictions, drivers and rejects.

Memory stays bounded by the chunk size, whatever the file's length. Columns
that are not model features (an id, a note) pass through untouched. What the
file is and how it reads (scoring.csvfile) is settled before any row is
scored: a file that is not text, has a header too long, or more columns than
the model can use is refused from its first bytes.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import IO

from scoring.csvfile import BatchError, open_text, read_header, records
from scoring.model import Model
from scoring.problems import Problem, shown
from scoring.score import RowResult, score

CHUNK_ROWS = 1000        # rows scored at a time: memory, progress and the deadline are checked per chunk
OTHER_COLUMNS = 100     # columns that are not fields (ids, notes) a file may carry, or 10x the fields if more
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@dataclass
class BatchSummary:
    rows: int = 0
    predicted: int = 0
    ignored_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return self.rows - self.predicted


def neutralise(cell: object) -> object:
    """Keep a spreadsheet from running a text cell as a formula; numbers stay numbers."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START) and not PLAIN_NUMBER.match(cell):
        return "'" + cell
    return cell


def result_columns(model: Model, top_k: int) -> list[str]:
    columns = ["prediction"]
    columns += [f"probability_{label}" for label in model.labels]
    for rank in range(1, top_k + 1):
        columns += [f"driver_{rank}", f"driver_{rank}_value", f"driver_{rank}_contribution"]
    return columns + ["warnings", "not_predicted_reason"]


def result_cells(result: RowResult, model: Model, top_k: int) -> list[object]:
    cells: list[object] = [result.prediction if result.ok else ""]
    cells += [round(result.probabilities[label], 6) if result.ok else "" for label in model.labels]
    for rank in range(top_k):
        if rank < len(result.drivers):
            driver = result.drivers[rank]
            cells += [driver.feature, driver.value, round(driver.contribution, 6)]
        else:
            cells += ["", "", ""]
    cells.append(" ".join(w.message for w in result.warnings))
    cells.append(result.reason or "")
    return cells


def column_limit(model: Model) -> int:
    """How many columns a file for `model` may have: its fields and some others, or 10x its fields."""
    fields = len(model.schema.features)
    return max(fields + OTHER_COLUMNS, 10 * fields)


def column_map(model: Model, header: list[str]) -> tuple[dict[int, str], list[str]]:
    """Column position -> feature name for the columns that are features; the others pass through."""
    fields, limit = len(model.schema.features), column_limit(model)
    if len(header) > limit:
        raise BatchError(f"The file has {len(header):,} columns; a file for {model.name} may have up to "
                         f"{limit:,} (its {fields} fields and {limit - fields} others). "
                         "Remove the columns it does not need.")
    mapping: dict[int, str] = {}
    ignored: list[str] = []
    for position, column in enumerate(header):
        feature = model.schema.feature(column)
        if isinstance(feature, Problem):
            ignored.append(column)
        elif feature.name in mapping.values():
            first = next(header[p] for p, f in mapping.items() if f == feature.name)
            raise BatchError(f"Columns {shown(first)} and {shown(column)} both mean {feature.name}; keep one.")
        else:
            mapping[position] = feature.name
    if not mapping:
        raise BatchError(f"No column of this file is a field of {model.name}. "
                         f"Its fields are: {', '.join(model.schema.names)}.")
    return mapping, ignored


def chunks(rows: Iterable[list[str]], size: int) -> Iterator[list[list[str]]]:
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


def score_csv(model: Model, source: IO[bytes], destination: IO[str], top_k: int | None = None,
              chunk_rows: int = CHUNK_ROWS, progress: Callable[[int], None] | None = None,
              deadline: float | None = None) -> BatchSummary:
    """Score every row of the CSV bytes in `source` into `destination`; one bad row never stops the file.

    Past `deadline` (a `time.monotonic()` value) scoring stops between chunks
    with a BatchError that says how far it got and what to do instead.
    """
    top_k = top_k or model.card.top_k
    text = open_text(source)
    header, header_lines = read_header(text)
    mapping, ignored = column_map(model, header)
    summary = BatchSummary(ignored_columns=tuple(ignored),
                           missing_columns=tuple(n for n in model.schema.names if n not in mapping.values()))
    writer = csv.writer(destination, lineterminator="\n")
    for chunk in chunks(records(text, len(header), header_lines + 1), chunk_rows):
        if summary.rows and deadline is not None and time.monotonic() > deadline:
            raise BatchError(f"Stopped after {summary.rows:,} rows: this file takes longer to score than an "
                             "answer here may. Split it into smaller files, or run `predbot score` on it.")
        if not summary.rows:
            writer.writerow([neutralise(c) for c in (*header, *result_columns(model, top_k))])
        results = score(model, [{name: cells[p] for p, name in mapping.items()} for cells in chunk], top_k)
        writer.writerows([neutralise(c) for c in (*cells, *result_cells(r, model, top_k))]
                         for cells, r in zip(chunk, results, strict=True))
        summary.rows += len(results)
        summary.predicted += sum(r.ok for r in results)
        for result in results:
            if not result.ok:
                for error in result.errors:
                    summary.reasons[error.label] = summary.reasons.get(error.label, 0) + 1
        if progress:
            progress(summary.rows)
    if not summary.rows:
        raise BatchError("The file has a header but no rows to score.")
    return summary
