"""`predbot batch add|list|run|cancel`, through `bot.cli.main` as the terminal runs it."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from batch_files import ROWS, churn_frame

from bot.cli import main


@pytest.fixture
def predbot(demo_dir, tmp_path, capsys):
    """`predbot(*args)`: main's exit status, stdout and stderr, over the demo models and a store of the test's."""
    settings = ["--cache", str(demo_dir.parent), "--data", str(tmp_path / "data")]

    def run(*args: str) -> tuple[int, str, str]:
        status = main([*args, *settings])
        said = capsys.readouterr()
        return status, said.out, said.err

    return run


@pytest.fixture
def customers(tmp_path):
    path = tmp_path / "anywhere" / "customers.csv"
    path.parent.mkdir()
    churn_frame().to_csv(path, index=False)
    return path


def test_a_job_added_at_the_terminal_runs_here_with_a_progress_line(predbot, customers, tmp_path):
    status, out, _ = predbot("batch", "add", "churn", str(customers))
    assert status == 0 and "queued to run now" in out
    job_id = out.split(":")[0]
    status, out, err = predbot("batch", "run", job_id)
    assert status == 0, err
    assert f"\r{job_id}: {ROWS:,} rows scored" in err
    results = tmp_path / "data" / "batches" / job_id / "customers-churn-1.csv"
    assert out.strip() == (f"Run 1 of {job_id}: {ROWS - 1:,} of {ROWS:,} rows predicted; not: 1 wrong type. "
                           f"Results: {results}")
    assert len(pd.read_csv(results)) == ROWS
    status, out, _ = predbot("batch", "list")
    assert status == 0 and re.match(rf"{re.escape(job_id)}  done\s+churn  {re.escape(str(customers))}  1 run, the "
                                    rf"last done, {ROWS} rows  \[terminal:", out)


def test_a_scheduled_job_is_listed_with_its_rule_and_next_run_and_can_be_cancelled(predbot, customers,
                                                                                     tmp_path):
    status, out, _ = predbot("batch", "add", "churn", str(customers), "--format", "parquet", "--rrule",
                             "FREQ=DAILY;BYHOUR=6", "--timezone", "Europe/Paris", "--only-when-changed")
    assert status == 0 and "first at " in out
    job_id = out.split(":")[0]
    status, out, _ = predbot("batch", "list")
    assert "scheduled" in out and "(FREQ=DAILY;BYHOUR=6 in Europe/Paris)" in out and "no runs yet; next " in out
    assert predbot("batch", "cancel", job_id)[:2] == (0, f"{job_id}: cancelled; it runs no more.\n")
    status, _, err = predbot("batch", "run", job_id)
    assert (status, err) == (1, "predbot: The job is cancelled, so it runs no more; add it again.\n")


@pytest.mark.parametrize("args, said", [
    (["chrun", "{file}"], "There is no model called 'chrun'. Did you mean 'churn'?"),
    (["churn", "{file}", "--rrule", "FREQ=DALY"], "invalid 'FREQ': DALY"),
    (["churn", "{file}", "--rrule", "FREQ=DAILY", "--timezone", "Europe/Pariss"], "Did you mean Europe/Paris?"),
    (["churn", "{file}", "--rrule", "FREQ=DAILY", "--start", "2027-03-01", "--end", "2027-02-01"], "before it starts"),
    (["churn", "{missing}"], "There is no file"),
    (["churn", "{text}"], "is not a CSV or Parquet file"),
])
def test_a_job_that_cannot_be_added_is_one_line_on_stderr_and_status_1(predbot, customers, args, said):
    (customers.parent / "notes.txt").write_text("age\n1\n")
    names = {"file": str(customers), "missing": str(customers.parent / "gone.csv"),
             "text": str(customers.parent / "notes.txt")}
    status, out, err = predbot("batch", "add", *[arg.format(**names) for arg in args])
    assert (status, out) == (1, "") and err.startswith("predbot: ") and said in err and err.count("\n") == 1
    assert predbot("batch", "list")[1] == "No batch jobs. Add one with `predbot batch add MODEL FILE`.\n"


def test_running_an_unknown_job_says_so(predbot):
    assert predbot("batch", "run", "nope") == (1, "", "predbot: There is no batch job 'nope'.\n")


def test_a_job_id_is_never_taken_for_an_option_on_the_command_line():
    from bot.jobs import new_job_id

    ids = {new_job_id() for _ in range(2000)}
    assert len(ids) == 2000 and all(re.fullmatch(r"[0-9a-f]{20}", job_id) for job_id in ids)
