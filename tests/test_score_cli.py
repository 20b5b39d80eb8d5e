"""`predbot score` with --jobs, --no-drivers, Parquet and --engine dask, run as a real subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pandas as pd
import pytest

from scoring.demo import churn_data

ROWS = 1200


@pytest.fixture(scope="module")
def predbot(demo_dir, tmp_path_factory):
    env = {**os.environ, "PREDBOT_CACHE": str(demo_dir.parent), "PREDBOT_DATA": str(tmp_path_factory.mktemp("data"))}

    def run(*args: str, **more_env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.cli", "score", *args], env={**env, **more_env},
                              capture_output=True, text=True, timeout=180, check=False)

    return run


@pytest.fixture(scope="module")
def churn_file(tmp_path_factory):
    """A churn CSV with an id column and one row whose income is a word, and the same rows as Parquet."""
    folder = tmp_path_factory.mktemp("files")
    frame, _ = churn_data(ROWS, seed=17)
    frame = frame.astype(object)
    frame.insert(0, "id", range(ROWS))
    frame.loc[2, "income"] = "sixty"
    frame.to_csv(folder / "in.csv", index=False)
    pd.read_csv(folder / "in.csv").to_parquet(folder / "in.parquet", index=False)
    return folder / "in.csv"


def summary(source, output) -> str:
    return (f"{source}: {ROWS - 1:,} of {ROWS:,} rows predicted; 1 not (1 wrong type), see not_predicted_reason; "
            f"passed through: id. Results: {output}\n  [model churn v")


def test_parquet_in_and_out_without_drivers_in_two_processes(predbot, churn_file, tmp_path):
    source, out = churn_file.with_suffix(".parquet"), tmp_path / "out.parquet"
    result = predbot(str(source), "-o", str(out), "--no-drivers", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(summary(source, out))
    written = pd.read_parquet(out)
    assert list(written.columns)[-5:] == ["prediction", "probability_stays", "probability_churns", "warnings",
                                          "not_predicted_reason"]
    assert written["id"].tolist() == list(range(ROWS)) and written["prediction"].isna().sum() == 1


def test_the_dask_engine_prints_only_the_summary_and_writes_what_the_local_engine_does(predbot, churn_file, tmp_path):
    local, distributed = tmp_path / "local.csv", tmp_path / "dask.csv"
    assert predbot(str(churn_file), "-o", str(local), "--jobs", "1").returncode == 0
    result = predbot(str(churn_file), "-o", str(distributed), "--engine", "dask", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(summary(churn_file, distributed)) and len(result.stderr.splitlines()) == 2
    assert distributed.read_bytes() == local.read_bytes()


@pytest.mark.parametrize("argv, message", [
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9", "-o", "out.csv"],
     "predbot: the Dask scheduler at tcp://127.0.0.1:9 cannot be reached: Timed out"),
    (["--engine", "dask", "--scheduler", "nowhere://host", "-o", "out.csv"],
     "predbot: the Dask scheduler at nowhere://host cannot be reached: unknown address scheme"),
    (["--scheduler", "tcp://127.0.0.1:9"], "predbot: --scheduler is for --engine dask\n"),
    (["--engine", "dask"], "predbot: --engine dask writes its results to -o FILE.csv, or -o DIR.parquet"),
])
def test_a_scheduler_that_cannot_be_used_is_one_line_and_exit_2(predbot, churn_file, tmp_path, argv, message):
    argv = [str(tmp_path / a) if a == "out.csv" else a for a in argv]
    result = predbot(str(churn_file), *argv, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="1s")
    assert result.returncode == 2
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1


def test_jobs_must_be_a_whole_number_above_zero(predbot, churn_file):
    result = predbot(str(churn_file), "--jobs", "0")
    assert result.returncode == 2 and "usage: predbot score" in result.stderr


def test_an_interrupted_run_in_two_processes_leaves_an_existing_output_as_it_was(demo_dir, tmp_path):
    from tests.doubles.loop import wait_until

    source, out = tmp_path / "big.csv", tmp_path / "out.csv"
    source.write_text("age,income\n" + "45,60000\n" * 50_000)
    out.write_text("yesterday's results\n")
    scoring = subprocess.Popen([sys.executable, "-m", "bot.cli", "score", str(source), "-o", str(out), "--jobs", "2"],
                               env={**os.environ, "PREDBOT_CACHE": str(demo_dir.parent)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: any(p.name.endswith(".tmp") for p in tmp_path.iterdir()), timeout=60)
        scoring.send_signal(signal.SIGINT)
        _, errors = scoring.communicate(timeout=60)
    finally:
        scoring.kill()
    assert scoring.returncode == 130
    assert errors == f"{source}: stopped (Ctrl-C); {out} is as it was.\n"
    assert out.read_text() == "yesterday's results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv", "out.csv"]
