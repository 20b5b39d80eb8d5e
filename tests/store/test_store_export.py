"""`predbot export`'s files: one line per recorded row, CSV or Parquet, read back as written; never half a file."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from store_entries import START, churn_row, diabetes_row, entry, unpredicted_row

from bot.store.export import export_file
from bot.store.tables import metadata


@pytest.fixture
def recorded(store):
    """Two churn predictions (one with a row not predicted), a diabetes one a day later, and feedback."""
    first = entry(churn_row(0), unpredicted_row(1), at=START)
    second = entry(churn_row(0, "stays"), at=START + timedelta(hours=1))
    later = entry(diabetes_row(0, 151.25), model="diabetes", version="d1", at=START + timedelta(days=1))
    for one in (first, second, later):
        store.record(one)
    assert store.flush()
    store.add_feedback(first.prediction_id, 0, "stays", "U_ANN")
    store.add_feedback(first.prediction_id, 0, "churns", "U_ANN")
    store.add_feedback(later.prediction_id, 0, "160", "U_BOB")
    return first, second, later


def test_each_row_is_one_flat_line_with_its_classes_drivers_and_latest_actual(store, recorded):
    first, second, later = recorded
    lines = list(store.export())
    assert [(line["prediction_id"], line["row"]) for line in lines] == [
        (first.prediction_id, 0), (first.prediction_id, 1), (second.prediction_id, 0), (later.prediction_id, 0)]
    assert lines[0] == {
        "prediction_id": first.prediction_id, "at": START, "channel": "slack", "sender": "U123", "model": "churn",
        "version": "84d96f5ecf", "kind": "prediction", "row": 0, "inputs": "age=45, income=60000",
        "prediction": "churns", "value": None, "probability_stays": 0.24, "probability_churns": 0.76,
        "base_value": 0.31, "drivers_for": "churns",
        "driver_1": "support_calls", "driver_1_value": "4", "driver_1_contribution": 0.272,
        "driver_2": "contract", "driver_2_value": "month-to-month", "driver_2_contribution": 0.119,
        "warnings": "Not given, so the model filled them in: plan.", "reason": None, "actual": "churns"}
    assert (lines[1]["reason"], lines[1]["actual"]) == ("age expects a number, got 'sixty'.", None)
    assert (lines[3]["value"], lines[3]["actual"]) == (151.25, "160")


def test_since_and_model_choose_the_lines(store, recorded):
    _, second, later = recorded
    assert [line["prediction_id"] for line in store.export(since=START + timedelta(minutes=1))] == [
        second.prediction_id, later.prediction_id]
    assert [line["prediction_id"] for line in store.export(model="diabetes")] == [later.prediction_id]
    assert list(store.export(since=datetime(2030, 1, 1, tzinfo=UTC))) == []


def as_csv(value: object) -> str:
    return "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)


def test_csv_reads_back_as_exported_with_every_models_columns(store, recorded, tmp_path):
    out = tmp_path / "predictions.csv"
    assert export_file(store, out) == 4
    with out.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        header, read_back = reader.fieldnames, list(reader)
    assert header == ["prediction_id", "at", "channel", "sender", "model", "version", "kind", "row", "inputs",
                      "prediction", "value", "probability_stays", "probability_churns", "base_value", "drivers_for",
                      "driver_1", "driver_1_value", "driver_1_contribution", "driver_2", "driver_2_value",
                      "driver_2_contribution", "warnings", "reason", "actual"]
    assert read_back == [{column: as_csv(line.get(column)) for column in header} for line in store.export()]


def test_parquet_reads_back_as_exported_with_types(store, recorded, tmp_path):
    out = tmp_path / "predictions.parquet"
    assert export_file(store, out, model="churn") == 3
    table = pq.read_table(out)
    assert str(table.schema.field("at").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("probability_churns").type) == "double"
    assert table.to_pylist() == [{column: line.get(column) for column in table.column_names}
                                 for line in store.export(model="churn")]


def test_an_empty_store_exports_a_file_of_headers(store, tmp_path):
    assert export_file(store, tmp_path / "none.csv") == 0
    assert (tmp_path / "none.csv").read_text().startswith("prediction_id,at,channel,")
    assert export_file(store, tmp_path / "none.parquet") == 0
    assert pq.read_table(tmp_path / "none.parquet").num_rows == 0


class BreaksHalfway:
    """A store whose connection is lost in the middle of an export's second pass (the one that writes)."""

    def __init__(self, store) -> None:
        self.store, self.passes = store, 0

    def export(self, since=None, model=None):
        self.passes += 1
        for number, line in enumerate(self.store.export(since, model)):
            if self.passes == 2 and number == 2:
                raise ConnectionError("server closed the connection unexpectedly")
            yield line


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_failed_export_leaves_the_file_there_as_it_was(store, recorded, tmp_path, suffix):
    out = tmp_path / "exports" / f"predictions{suffix}"
    out.parent.mkdir()
    assert export_file(store, out) == 4
    out.chmod(0o640)
    before = out.read_bytes()
    with pytest.raises(ConnectionError):
        export_file(BreaksHalfway(store), out)
    metadata.drop_all(store.engine)
    with pytest.raises(Exception, match="predictions"):
        export_file(store, out)
    assert out.read_bytes() == before and out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in out.parent.iterdir()] == [out.name]
