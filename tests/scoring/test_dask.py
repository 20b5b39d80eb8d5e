"""`predbot score --engine dask` on a LocalCluster of two workers: the local engine's results, row for row."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from bot.reply import ScoredFile
from bot.terminal import Scoring, score_path
from scoring import dask_engine
from scoring.dask_engine import score_dask
from scoring.demo import churn_data
from scoring.workers import ModelRef

ROWS = 1500
BLOCK = 25_000      # bytes: the CSV file (90 kB) reads as four partitions


@pytest.fixture(scope="module")
def ref(churn, demo_dir) -> ModelRef:
    return ModelRef.of(churn, demo_dir)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """in.csv, with bad rows and a note that is not UTF-8; the same rows as in.parquet, and split in two as
    part-1.parquet and part-2.parquet."""
    folder = tmp_path_factory.mktemp("dask")
    frame, _ = churn_data(ROWS, seed=13)
    frame = frame.astype(object)
    frame.insert(0, "customer", [f"c{n}" for n in range(ROWS)])
    frame["note"] = ""
    frame.loc[4, "income"] = "sixty"
    frame.loc[ROWS // 2, "plan"] = "Premum"
    frame.loc[7, "note"] = "CAFE"
    (folder / "in.csv").write_bytes(frame.to_csv(index=False).encode().replace(b"CAFE", b"caf\xe9 =1"))
    typed = pd.read_csv(folder / "in.csv", encoding="latin-1")
    typed.to_parquet(folder / "in.parquet", index=False)
    typed[:ROWS // 2].to_parquet(folder / "part-1.parquet", index=False)
    typed[ROWS // 2:].to_parquet(folder / "part-2.parquet", index=False)
    return folder


def local(model, ref, source: Path, output: Path) -> ScoredFile:
    scored = score_path(model, ref, source, output, Scoring(jobs=1))
    assert scored.error is None
    return scored


def test_a_csv_file_scored_on_a_local_cluster_is_the_local_engines_byte_for_byte(churn, ref, inputs, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setattr(dask_engine, "BLOCK_BYTES", BLOCK)
    assert (inputs / "in.csv").stat().st_size > 3 * BLOCK
    summary = score_dask(churn, ref, str(inputs / "in.csv"), tmp_path / "dask.csv", parquet_out=False, workers=2)
    alone = local(churn, ref, inputs / "in.csv", tmp_path / "local.csv")
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "dask.csv"), pd.read_csv(tmp_path / "local.csv"))
    assert (summary.rows, summary.predicted, summary.reasons) == (alone.rows, alone.predicted, alone.reasons)
    assert summary.reasons == {"wrong_type": 1, "unknown_category": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dask.csv", "local.csv"]     # no parts left behind


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as running:
        yield running


def test_parquet_files_scored_through_a_schedulers_address_match_the_local_engine(churn, ref, inputs, tmp_path,
                                                                                   cluster):
    summary = score_dask(churn, ref, str(inputs / "part-*.parquet"), tmp_path / "dask.parquet", parquet_out=True,
                         scheduler=cluster.scheduler_address)
    local(churn, ref, inputs / "in.parquet", tmp_path / "local.parquet")
    assert sorted(p.name for p in (tmp_path / "dask.parquet").iterdir()) == ["part.000000.parquet",
                                                                             "part.000001.parquet"]
    distributed, alone = pd.read_parquet(tmp_path / "dask.parquet"), pd.read_parquet(tmp_path / "local.parquet")
    pd.testing.assert_frame_equal(distributed, alone)
    assert distributed["note"][7] == "café =1" and summary.rows == ROWS
