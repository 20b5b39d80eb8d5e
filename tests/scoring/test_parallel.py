"""`predbot score --jobs N`, `--no-drivers` and Parquet: the same results as one process, in the same order."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from scoring.batch import BatchError, CsvOutput, CsvTable, plan
from scoring.demo import churn_data
from scoring.parallel import IN_FLIGHT, score_rows
from scoring.parquet import ParquetOutput, ParquetTable, output_schema
from scoring.workers import ModelRef

ROWS, CHUNK = 1200, 100         # twelve chunks, more than two workers keep in flight


def churn_frame(rows: int) -> pd.DataFrame:
    """Churn customers with an id first and some rows no model can take (a word for a number, a misspelt plan)."""
    frame, _ = churn_data(rows, seed=11)
    frame = frame.astype(object)
    frame.insert(0, "customer", [f"c{n}" for n in range(rows)])
    frame.loc[3, "income"] = "sixty"
    frame.loc[rows // 2, "plan"] = "Premum"
    frame.loc[rows - 1, "age"] = "=1+1"
    return frame


@pytest.fixture(scope="module")
def churn_csv() -> bytes:
    return churn_frame(ROWS).to_csv(index=False).encode()


@pytest.fixture(scope="module")
def ref(churn, demo_dir) -> ModelRef:
    return ModelRef.of(churn, demo_dir)


def scored_csv(model, ref, content: bytes, jobs: int, drivers: bool = True, progress=None, rows=None):
    """The CSV results of `content` scored with `jobs`, and the summary; `rows` wraps the table's rows."""
    table = CsvTable(io.BytesIO(content))
    planned, summary = plan(model, table, drivers=drivers)
    out = io.StringIO()
    source = rows(table.rows()) if rows else table.rows()
    score_rows(model, ref, planned, source, CsvOutput(out, [*table.header, *planned.result_columns(model)]), summary,
               jobs, progress, CHUNK)
    return out.getvalue(), summary


@pytest.fixture(scope="module")
def one_job(churn, ref, churn_csv):
    return scored_csv(churn, ref, churn_csv, jobs=1)


def test_two_workers_write_the_same_bytes_as_one_process(churn, ref, churn_csv, one_job):
    (two, summary), (one, alone) = scored_csv(churn, ref, churn_csv, jobs=2), one_job
    assert two == one
    assert (summary.rows, summary.predicted, summary.reasons) == (ROWS, ROWS - 3, alone.reasons)
    assert summary.reasons == {"wrong_type": 2, "unknown_category": 1}


def test_rows_come_back_in_the_order_they_were_read(churn, ref, churn_csv):
    written, _ = scored_csv(churn, ref, churn_csv, jobs=2)
    rows = list(csv.DictReader(io.StringIO(written)))
    assert [r["customer"] for r in rows] == [f"c{n}" for n in range(ROWS)]
    assert rows[3]["not_predicted_reason"] == "income expects a number, got 'sixty'."
    assert rows[-1]["age"] == "'=1+1"       # neutralised, as one process writes it


def test_progress_counts_every_workers_rows_up_to_the_total(churn, ref, churn_csv):
    heard: list[int] = []
    scored_csv(churn, ref, churn_csv, jobs=2, progress=heard.append)
    assert heard == list(range(CHUNK, ROWS + 1, CHUNK))


def test_at_most_two_chunks_a_worker_are_read_ahead_of_those_written(churn, ref, churn_csv):
    read = 0

    def counted(rows):
        nonlocal read
        for row in rows:
            read += 1
            yield row

    ahead: list[int] = []
    scored_csv(churn, ref, churn_csv, jobs=2, progress=lambda written: ahead.append(read - written), rows=counted)
    assert max(ahead) <= (IN_FLIGHT * 2 + 1) * CHUNK     # in flight, and the chunk being read
    assert max(ahead) > CHUNK                           # the workers did run ahead of the writing


def test_a_worker_refuses_a_model_whose_files_changed(churn, ref, churn_csv):
    stale = ModelRef(ref.directory, ref.name, "0000000000")
    with pytest.raises(BatchError, match=r"^The model churn changed while the file was being scored \(v0000000000 is "
                                         r"now v\w+\); score the file again\.$"):
        scored_csv(churn, stale, churn_csv, jobs=2)


def test_no_drivers_gives_the_same_predictions_without_driver_columns(churn, ref, churn_csv, one_job):
    written, summary = scored_csv(churn, ref, churn_csv, jobs=2, drivers=False)
    bare, full = pd.read_csv(io.StringIO(written), dtype=str), pd.read_csv(io.StringIO(one_job[0]), dtype=str)
    assert list(bare.columns) == [*churn_frame(1).columns, "prediction", "probability_stays", "probability_churns",
                                  "warnings", "not_predicted_reason"]
    same = ["prediction", "probability_stays", "probability_churns", "not_predicted_reason"]
    pd.testing.assert_frame_equal(bare[same], full[same])
    assert not bare["warnings"].fillna("").str.contains("no drivers").any()
    assert (summary.rows, summary.predicted) == (ROWS, ROWS - 3)


def test_a_parquet_table_scores_as_its_csv_form_does(churn, ref, churn_csv, one_job, tmp_path):
    typed = pd.read_csv(io.BytesIO(churn_csv))       # numbers as numbers, where a column has only numbers
    typed.to_parquet(tmp_path / "in.parquet", index=False)
    table = ParquetTable(str(tmp_path / "in.parquet"))
    planned, summary = plan(churn, table)
    out = io.StringIO()
    score_rows(churn, ref, planned, table.rows(), CsvOutput(out, [*table.header, *planned.result_columns(churn)]),
               summary, 2, None, CHUNK)
    from_parquet, from_csv = pd.read_csv(io.StringIO(out.getvalue())), pd.read_csv(io.StringIO(one_job[0]))
    results = planned.result_columns(churn)
    pd.testing.assert_frame_equal(from_parquet[results], from_csv[results])
    assert summary.rows == ROWS


def test_results_written_as_parquet_read_back_with_the_same_columns_and_values(churn, ref, churn_csv, one_job,
                                                                               tmp_path: Path):
    table = CsvTable(io.BytesIO(churn_csv))
    planned, summary = plan(churn, table)
    with ParquetOutput(str(tmp_path / "out.parquet"), output_schema(table.header, churn, planned),
                     len(table.header)) as out:
        score_rows(churn, ref, planned, table.rows(), out, summary, 2, None, CHUNK)
    written = pq.read_table(tmp_path / "out.parquet").to_pandas()
    from_csv = pd.read_csv(io.StringIO(one_job[0]), dtype=str, keep_default_na=False)
    assert list(written.columns) == list(from_csv.columns)
    assert written["probability_churns"].dtype == "float64"
    assert written["customer"].tolist() == from_csv["customer"].tolist()
    assert written["probability_churns"].tolist()[:3] == [float(p) for p in from_csv["probability_churns"][:3]]
    assert written["age"].iloc[-1] == "=1+1"            # Parquet keeps text as it was: no spreadsheet runs it
    assert written["prediction"].isna().sum() == 3      # a result a row does not have is null
