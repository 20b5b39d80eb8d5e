"""Parquet in and out: a table read a record batch at a time, and results written a row group at a time.

Cells keep their types: a Parquet number goes to the schema's coercion as
the number it is, which reads it exactly as it reads the same number written
in a CSV file, so a table gives the same predictions in either form. The
results are typed too: probabilities, base values and contributions are
doubles, a regressor's prediction is one, and the rest is text; a result a
row does not have is null. Columns that are not fields keep the type they
came with (text, from a CSV file). Nothing is neutralised: that guards CSV
files opened in a spreadsheet, and a Parquet file is not opened there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from scoring.batch import CHUNK_ROWS, Plan, Reader
from scoring.csvfile import BatchError
from scoring.model import Model
from scoring.schema import Kind

ROW_GROUP_ROWS = 100_000    # rows buffered before a row group is written: readers skip and read whole groups
SUFFIX = ".parquet"


def is_parquet(name: object) -> bool:
    return str(name).lower().endswith(SUFFIX)


def as_given(cell: object) -> object:
    """A typed cell goes to the schema as it is (a None or NaN is a missing value)."""
    return cell


class ParquetTable:
    """A Parquet file's column names and rows, read CHUNK_ROWS at a time."""

    tried = ""

    def __init__(self, source: str | IO[bytes], batch_rows: int = CHUNK_ROWS) -> None:
        try:
            self._file = pq.ParquetFile(source)
        except (pa.ArrowException, OSError) as error:
            raise BatchError(f"It cannot be read as Parquet: {error}") from None
        self.schema = self._file.schema_arrow
        self.header = list(self.schema.names)
        self._batch_rows = batch_rows

    @property
    def num_rows(self) -> int:
        return self._file.metadata.num_rows

    def reader(self, kind: Kind) -> Reader:
        return as_given

    def rows(self) -> Iterator[list[object]]:
        for batch in self._file.iter_batches(batch_size=self._batch_rows):
            yield from rows_of(batch)


def rows_of(batch: pa.RecordBatch | pa.Table) -> list[list[object]]:
    """A record batch's rows as Python values, one per column."""
    return [list(row) for row in zip(*(column.to_pylist() for column in batch.columns), strict=True)]


def result_fields(model: Model, plan: Plan) -> list[pa.Field]:
    """The result columns' types: numbers as doubles, the rest (labels, drivers' names and values) as text."""
    numbers = {f"probability_{label}" for label in model.labels} | {"base_value"}
    numbers |= {f"driver_{rank}_contribution" for rank in range(1, plan.top_k + 1)}
    if not model.is_classifier:
        numbers.add("prediction")
    return [pa.field(name, pa.float64() if name in numbers else pa.string()) for name in plan.result_columns(model)]


def output_schema(inputs: pa.Schema | Sequence[str], model: Model, plan: Plan) -> pa.Schema:
    """The input's columns with their types (text for a CSV file's header), then the result columns."""
    fields = list(inputs) if isinstance(inputs, pa.Schema) else [pa.field(name, pa.string()) for name in inputs]
    return pa.schema(fields + result_fields(model, plan))


class ParquetOutput:
    """Scored rows into a Parquet file, a row group of ROW_GROUP_ROWS at a time; closing it writes the rest."""

    def __init__(self, destination: str | IO[bytes], schema: pa.Schema, inputs: int) -> None:
        self._schema, self._inputs = schema, inputs
        self._writer = pq.ParquetWriter(destination, schema)
        self._buffered: list[pa.RecordBatch] = []
        self._rows = 0

    def __enter__(self) -> ParquetOutput:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def write(self, rows: list[list[object]]) -> None:
        self._buffered.append(self.batch(rows))
        self._rows += len(rows)
        if self._rows >= ROW_GROUP_ROWS:
            self._flush()

    def batch(self, rows: list[list[object]]) -> pa.RecordBatch:
        columns = list(zip(*rows, strict=True))
        arrays = [pa.array(column if position < self._inputs else _result(column, field.type), type=field.type)
                  for position, (column, field) in enumerate(zip(columns, self._schema, strict=True))]
        return pa.RecordBatch.from_arrays(arrays, schema=self._schema)

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def _flush(self) -> None:
        if self._buffered:
            self._writer.write_table(pa.Table.from_batches(self._buffered, self._schema),
                                     row_group_size=max(self._rows, 1))
            self._buffered, self._rows = [], 0


def _result(cells: Sequence[object], kind: pa.DataType) -> list[object]:
    """Result cells as the column's type: an empty one is null, a driver's value its text as CSV writes it."""
    if pa.types.is_floating(kind):
        return [None if cell == "" else cell for cell in cells]
    return [None if cell == "" else str(cell) for cell in cells]
