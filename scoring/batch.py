"""Score a CSV file in chunks: every input column, then predictions, drivers and rejects.

Memory stays bounded by the chunk size, whatever the file's length. A header
names a field as a key in a command does, or with a unit in brackets after it
(`sepal length (cm)`); a column map names the rest (`--map COLUMN=FIELD`).
Columns that are not model features (an id, a note) pass through untouched,
and one that looks like a field the file lacks is named with it. What the
file is and how it reads (scoring.csvfile) is settled before any row is
scored: a file that is not text, has a header too long, or more columns than
the model can use is refused from its first bytes.

`score_chunk` is the one unit every engine runs: a Plan (which cells are
which fields, how each reads) and a chunk of rows in, the rows as written and
what became of them out. `score_csv` runs it here, in one process, for files
sent in chat; scoring.parallel runs it in worker processes and
scoring.dask_engine on a Dask cluster.
"""

from __future__ import annotations

import csv
import difflib
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any, Protocol

from scoring.csvfile import BatchError, open_csv, read_header, records
from scoring.model import Model
from scoring.problems import COMPARED_CHARS, Problem, listing, shown
from scoring.schema import Kind, normalise_key, without_unit
from scoring.score import RowResult, score

CHUNK_ROWS = 1000        # rows scored at a time: memory, progress and the deadline are checked per chunk
OTHER_COLUMNS = 100     # columns that are not fields (ids, notes) a file may carry, or 10x the fields if more
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
# How close a column's header must be to a field's name to be named with it. Columns that are not fields are
# mostly ids and notes; difflib's usual 0.6 would pair many of them with some field (`name` with income).
CLOSE_HEADER = 0.75


@dataclass
class BatchSummary:
    rows: int = 0
    predicted: int = 0
    ignored_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    suggestions: dict[str, str] = field(default_factory=dict)     # an ignored column -> the field it may mean
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return self.rows - self.predicted

    def add(self, scored: Scored | BatchSummary) -> None:
        """Count a scored chunk, or another part's summary, in."""
        self.rows += scored.rows
        self.predicted += scored.predicted
        for label, count in scored.reasons.items():
            self.reasons[label] = self.reasons.get(label, 0) + count


Reader = Callable[[Any], object]        # how a column's cells become the values the schema coerces


@dataclass(frozen=True)
class Plan:
    """How every chunk of one file is scored, in whichever process scores it: which cells are which fields and
    how each is read, drivers per row, and whether to explain at all."""

    fields: dict[int, str]              # column position -> the field it holds
    readers: dict[int, Reader]          # column position -> how its cells are read
    top_k: int
    drivers: bool = True

    def result_columns(self, model: Model) -> list[str]:
        return result_columns(model, self.top_k, self.drivers)


@dataclass
class Scored:
    """One chunk as written, each row its own cells then the result cells, and what became of its rows."""

    output: list[list[object]]
    predicted: int
    reasons: dict[str, int]

    @property
    def rows(self) -> int:
        return len(self.output)


class Table(Protocol):
    """A file to score: its column names, how a column of a kind reads, and its rows of cells, one per column."""

    header: list[str]
    tried: str              # how it was read, for a refusal ("" when there is nothing to tell)

    def reader(self, kind: Kind) -> Reader: ...

    def rows(self) -> Iterator[list[object]]: ...


class Output(Protocol):
    """Where scored rows go, in order."""

    def write(self, rows: list[list[object]]) -> None: ...


def neutralise(cell: object) -> object:
    """Keep a spreadsheet from running a text cell as a formula; numbers stay numbers."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START) and not PLAIN_NUMBER.match(cell):
        return "'" + cell
    return cell


def result_columns(model: Model, top_k: int, drivers: bool = True) -> list[str]:
    """prediction, probability_LABEL per class, then (classifiers) drivers_for, base_value and the drivers
    (unless `drivers` is off), then warnings and not_predicted_reason.

    base_value plus every driver's contribution is the model's output for the
    row on the drivers' scale, toward drivers_for: the positive class of a
    binary model on every row, each row's predicted class of a multiclass one.
    """
    columns = ["prediction"]
    columns += [f"probability_{label}" for label in model.labels]
    if drivers:
        columns += ["drivers_for", "base_value"] if model.is_classifier else ["base_value"]
        for rank in range(1, top_k + 1):
            columns += [f"driver_{rank}", f"driver_{rank}_value", f"driver_{rank}_contribution"]
    return columns + ["warnings", "not_predicted_reason"]


def result_cells(result: RowResult, model: Model, top_k: int, drivers: bool = True) -> list[object]:
    cells: list[object] = [result.prediction if result.ok else ""]
    cells += [round(result.probabilities[label], 6) if result.ok else "" for label in model.labels]
    if drivers:
        if model.is_classifier:
            cells.append(result.drivers_for)
        cells.append("" if result.base_value is None else round(result.base_value, 6))
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


def column_map(model: Model, header: list[str],
               renames: Mapping[str, str] | None = None) -> tuple[dict[int, str], list[str]]:
    """Column position -> feature name for the columns that are features; the others pass through.

    `renames` (column -> field) names the field of a column whose header does not; a column it names wins
    over a header that names the same field, which then passes through.
    """
    fields, limit = len(model.schema.features), column_limit(model)
    if len(header) > limit:
        raise BatchError(f"The file has {len(header):,} columns; a file for {model.name} may have up to "
                         f"{limit:,} (its {fields} fields and {limit - fields} others). "
                         "Remove the columns it does not need.")
    mapping = renamed_columns(model, header, renames or {})
    renamed = set(mapping.values())
    ignored: list[str] = []
    for position, column in enumerate(header):
        if position in mapping:
            continue
        feature = model.schema.column(column)
        if isinstance(feature, Problem) or feature.name in renamed:
            ignored.append(column)
        elif feature.name in mapping.values():
            first = next(header[p] for p, f in mapping.items() if f == feature.name)
            raise BatchError(f"Columns {shown(first)} and {shown(column)} both mean {feature.name}; keep one.")
        else:
            mapping[position] = feature.name
    return mapping, ignored


def renamed_columns(model: Model, header: list[str], renames: Mapping[str, str]) -> dict[int, str]:
    """Column position -> feature name for each column `renames` names: by its header as written, else ignoring
    case and spacing as a field's name is matched."""
    mapping: dict[int, str] = {}
    for column, name in renames.items():
        position = next((p for p, h in enumerate(header) if h == column), None)
        if position is None:
            position = next((p for p, h in enumerate(header) if normalise_key(h) == normalise_key(column)), None)
        if position is None:
            raise BatchError(f"The file has no column {shown(column)} to read as {name}. "
                             f"Its columns are: {listing(header)}.")
        feature = model.schema.feature(name)
        if isinstance(feature, Problem):
            raise BatchError(f"Column {shown(column)} cannot be read as {shown(name)}: {feature.message}")
        if feature.name in mapping.values():
            raise BatchError(f"Two columns are to be read as {feature.name}; name one.")
        if position in mapping:
            raise BatchError(f"Column {shown(header[position])} is to be read as two fields; name one.")
        mapping[position] = feature.name
    return mapping


def close_fields(model: Model, ignored: list[str], missing: tuple[str, ...]) -> dict[str, str]:
    """Each ignored column whose header is close to the name or alias of a field the file lacks -> that field."""
    by_key = {normalise_key(key): feature.name for feature in model.schema.features if feature.name in missing
              for key in (*feature.aliases, feature.name)}
    close = {}
    for column in ignored:
        key = normalise_key(without_unit(column))[:COMPARED_CHARS]
        if found := difflib.get_close_matches(key, list(by_key), n=1, cutoff=CLOSE_HEADER):
            close[column] = by_key[found[0]]
    return close


def maybe(close: dict[str, str]) -> str:
    """Columns that may be fields, for a refusal: ` Perhaps 'agee' is age: rename that column to match.`"""
    if not close:
        return ""
    named = listing([f"{shown(column)} is {name}" for column, name in close.items()])
    return f" Perhaps {named}: rename {'that column' if len(close) == 1 else 'those columns'} to match."


def plan(model: Model, table: Table, renames: Mapping[str, str] | None = None, top_k: int | None = None,
         drivers: bool = True) -> tuple[Plan, BatchSummary]:
    """How `table`'s rows are scored, and its summary before any row is: the columns passed through, the
    fields it lacks and the columns that may be them. A table with no column that is a field is refused."""
    mapping, ignored = column_map(model, table.header, renames)
    missing = tuple(n for n in model.schema.names if n not in mapping.values())
    close = close_fields(model, ignored, missing)
    if not mapping:
        raise BatchError(f"No column of this file is a field of {model.name}. "
                         f"Its fields are: {', '.join(model.schema.names)}.{maybe(close)} {table.tried}".rstrip())
    kinds = {feature.name: feature.kind for feature in model.schema.features}
    readers = {position: table.reader(kinds[name]) for position, name in mapping.items()}
    summary = BatchSummary(ignored_columns=tuple(ignored), missing_columns=missing, suggestions=close)
    return Plan(mapping, readers, top_k or model.card.top_k, drivers), summary


def score_chunk(model: Model, plan: Plan, chunk: Sequence[Sequence[object]]) -> Scored:
    """Score one chunk of rows: each row's cells, then its result cells, and why the rows not predicted were not.

    The unit every engine runs, wherever the model was loaded; one bad row never stops the chunk.
    """
    rows = [{name: plan.readers[p](cells[p]) for p, name in plan.fields.items()} for cells in chunk]
    results = score(model, rows, plan.top_k, drivers=plan.drivers)
    output = [[*cells, *result_cells(result, model, plan.top_k, plan.drivers)]
              for cells, result in zip(chunk, results, strict=True)]
    reasons = Counter(error.label for result in results if not result.ok for error in result.errors)
    return Scored(output, sum(result.ok for result in results), dict(reasons))


def chunks(rows: Iterable[list[object]], size: int) -> Iterator[list[list[object]]]:
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


def scored_chunks(model: Model, plan: Plan, rows: Iterable[list[object]],
                  chunk_rows: int = CHUNK_ROWS) -> Iterator[Scored]:
    """Each chunk of `rows` scored here, in this process, as it is read."""
    for chunk in chunks(rows, chunk_rows):
        yield score_chunk(model, plan, chunk)


def drain(scored: Iterator[Scored], out: Output, summary: BatchSummary,
          progress: Callable[[int], None] | None = None, deadline: float | None = None) -> BatchSummary:
    """Write every scored chunk to `out` in order, counting it into `summary`; `progress` hears the rows
    written so far. Past `deadline` (a `time.monotonic()` value) it stops before the next chunk, saying how far
    it got and what to do instead."""
    while True:
        if summary.rows and deadline is not None and time.monotonic() > deadline:
            raise BatchError(f"Stopped after {summary.rows:,} rows: this file takes longer to score than an "
                             "answer here may. Split it into smaller files, or run `predbot score` on it.")
        part = next(scored, None)
        if part is None:
            break
        out.write(part.output)
        summary.add(part)
        if progress:
            progress(summary.rows)
    if not summary.rows:
        raise BatchError("The file has a header but no rows to score.")
    return summary


class CsvTable:
    """A CSV file's header and rows (scoring.csvfile): a number field's cells read in the file's decimal mark."""

    def __init__(self, source: IO[bytes], decimal: str | None = None) -> None:
        self._text, self.layout = open_csv(source, decimal)
        self.header, self._header_lines = read_header(self._text, self.layout)

    @property
    def tried(self) -> str:
        return self.layout.tried

    def reader(self, kind: Kind) -> Reader:
        comma = self.layout.decimal != "."
        return self.layout.number if comma and kind in (Kind.NUMERIC, Kind.INTEGER) else str

    def rows(self) -> Iterator[list[object]]:
        return records(self._text, len(self.header), self._header_lines + 1, self.layout)


class CsvOutput:
    """Rows as CSV text, every cell neutralised so that a spreadsheet runs no formula; the header, if given, with
    the first rows, so that a file refused before its first row has written nothing."""

    def __init__(self, destination: IO[str], columns: Sequence[str] | None = None) -> None:
        self._writer = csv.writer(destination, lineterminator="\n")
        self._header = columns

    def write(self, rows: list[list[object]]) -> None:
        if self._header is not None:
            self._writer.writerow([neutralise(c) for c in self._header])
            self._header = None
        self._writer.writerows([neutralise(c) for c in row] for row in rows)


def score_csv(model: Model, source: IO[bytes], destination: IO[str], top_k: int | None = None,
              chunk_rows: int = CHUNK_ROWS, progress: Callable[[int], None] | None = None,
              deadline: float | None = None, renames: Mapping[str, str] | None = None,
              decimal: str | None = None) -> BatchSummary:
    """Score every row of the CSV bytes in `source` into `destination`; one bad row never stops the file.

    `renames` maps columns to the fields they hold; `decimal` is the numbers'
    decimal mark (None: sniffed, scoring.csvfile). Past `deadline` (a
    `time.monotonic()` value) scoring stops between chunks with a BatchError
    that says how far it got and what to do instead.
    """
    table = CsvTable(source, decimal)
    planned, summary = plan(model, table, renames, top_k)
    out = CsvOutput(destination, [*table.header, *planned.result_columns(model)])
    return drain(scored_chunks(model, planned, table.rows(), chunk_rows), out, summary, progress, deadline)
