"""Score a CSV file in chunks: every input column, then predictions, drivers and rejects.

Memory stays bounded by the chunk size, whatever the file's length. Columns
that are not model features (an id, a note) pass through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

import pandas as pd

from scoring.model import Model
from scoring.problems import Problem
from scoring.score import RowResult, score

CHUNK_ROWS = 5000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


class BatchError(ValueError):
    """The file as a whole cannot be scored; the message says why and what to do."""


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


def column_map(model: Model, header: list[str]) -> tuple[dict[str, str], list[str]]:
    """CSV column -> feature name for the columns that are features; the others are ignored."""
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for column in header:
        feature = model.schema.feature(column)
        if isinstance(feature, Problem):
            ignored.append(column)
        elif feature.name in mapping.values():
            first = next(c for c, f in mapping.items() if f == feature.name)
            raise BatchError(f"Columns '{first}' and '{column}' both mean {feature.name}; keep one.")
        else:
            mapping[column] = feature.name
    if not mapping:
        raise BatchError(f"No column of this file is a field of {model.name}. "
                         f"Its fields are: {', '.join(model.schema.names)}.")
    return mapping, ignored


def read_chunks(source: IO, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        yield from pd.read_csv(source, dtype=str, keep_default_na=False, chunksize=chunk_rows,
                               skipinitialspace=True, encoding_errors="replace")
    except pd.errors.EmptyDataError:
        raise BatchError("The file is empty; it needs a header row naming the fields.") from None
    except pd.errors.ParserError as error:
        raise BatchError(f"This is not a readable CSV file: {error}.") from None


def score_csv(model: Model, source: IO, destination: IO, top_k: int | None = None,
              chunk_rows: int = CHUNK_ROWS, progress: Callable[[int], None] | None = None) -> BatchSummary:
    """Score every row of `source` into `destination`; one bad row never stops the file."""
    top_k = top_k or model.card.top_k
    summary = BatchSummary()
    mapping: dict[str, str] | None = None
    for chunk in read_chunks(source, chunk_rows):
        if mapping is None:
            mapping, ignored = column_map(model, list(chunk.columns))
            summary.ignored_columns = tuple(ignored)
            summary.missing_columns = tuple(n for n in model.schema.names if n not in mapping.values())
        records = chunk[list(mapping)].rename(columns=mapping).to_dict("records")
        results = score(model, records, top_k)
        table = [[neutralise(c) for c in (*row, *result_cells(r, model, top_k))]
                 for row, r in zip(chunk.itertuples(index=False), results)]
        pd.DataFrame(table, columns=[*chunk.columns, *result_columns(model, top_k)]).to_csv(
            destination, index=False, header=summary.rows == 0)
        summary.rows += len(results)
        summary.predicted += sum(r.ok for r in results)
        for result in results:
            if not result.ok:
                for error in result.errors:
                    summary.reasons[error.label] = summary.reasons.get(error.label, 0) + 1
        if progress:
            progress(summary.rows)
    if mapping is None:
        raise BatchError("The file has a header but no rows to score.")
    return summary
