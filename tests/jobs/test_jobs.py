"""Batch jobs run on a schedule the test's clock drives, once across replicas, taken over when their process dies,
and write what `predbot score` writes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from batch_files import ROWS, START, churn_frame

from bot.jobs import JobError, Jobs, Status, records
from bot.store import open_store
from bot.terminal import score_file

HOUR = 3600.0


def ten_oclock() -> float:
    return datetime(2027, 5, 4, 10, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_an_hourly_job_runs_when_the_clock_reaches_its_tick_and_writes_what_predbot_score_writes(
        jobs, clock, churn_csv, churn_parquet, registry, tmp_path, form):
    source = churn_parquet if form == "parquet" else churn_csv
    job = jobs.add("ana", "churn", path=source.name, format=form, rrule="FREQ=HOURLY", timezone="UTC")
    assert (job.status, job.next_run, job.runs) == (Status.SCHEDULED, ten_oclock(), ())
    assert jobs.tick() == [] and jobs.due() == []           # 09:30: not yet

    clock.now = ten_oclock()
    [ran] = jobs.tick()
    [run] = ran.runs
    assert (ran.status, ran.next_run) == (Status.SCHEDULED, ten_oclock() + HOUR)
    assert (run.number, run.status, run.rows_done, run.rows_total, run.not_predicted) == (1, "done", ROWS, ROWS, 1)
    assert run.reasons == {"wrong_type": 1} and run.error is None
    assert run.output == f"customers-churn-1.{form}"

    expected = tmp_path / f"expected.{form}"
    assert score_file(registry, source, expected, "churn") == 0
    written, path = jobs.output(job.id, 1), jobs.output_dir / job.id / run.output
    assert written == (path, run.output)
    if form == "csv":
        assert path.read_text() == expected.read_text()
    else:
        assert pq.read_table(path).equals(pq.read_table(expected))
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []     # no temporary left behind
    assert jobs.tick() == []            # the 10:00 tick is spent


def test_a_job_without_a_schedule_is_queued_runs_once_and_is_done(jobs, clock, churn_csv):
    job = jobs.add("ana", "churn", path="customers.csv")
    assert (job.status, job.next_run) == (Status.QUEUED, START)
    [ran] = jobs.tick()
    assert (ran.status, ran.next_run, [run.status for run in ran.runs]) == (Status.DONE, None, ["done"])
    clock.now += 10 * HOUR
    assert jobs.tick() == []
    again = jobs.run_now(job.id)
    assert again.status == Status.QUEUED
    [ran] = jobs.tick()
    assert [run.number for run in ran.runs] == [1, 2] and ran.status == Status.DONE


def test_only_when_changed_skips_a_tick_whose_input_is_unchanged_and_runs_a_changed_one(jobs, clock, churn_csv):
    job = jobs.add("ana", "churn", path="customers.csv", rrule="FREQ=HOURLY", only_when_changed=True)
    clock.now = ten_oclock()
    assert len(jobs.tick()[0].runs) == 1
    clock.now += HOUR
    [skipped] = jobs.tick()
    assert (len(skipped.runs), skipped.skipped, skipped.status) == (1, 1, Status.SCHEDULED)
    assert skipped.next_run == ten_oclock() + 2 * HOUR
    churn_frame(seed=8).to_csv(churn_csv, index=False)
    clock.now += HOUR
    [ran] = jobs.tick()
    assert [run.status for run in ran.runs] == ["done", "done"] and ran.skipped == 1
    assert jobs.get(job.id).runs[-1].output == "customers-churn-2.csv"
    jobs.run_now(job.id)                # asked for by a person: run, changed or not
    [ran] = jobs.tick()
    assert (len(ran.runs), ran.skipped, ran.status) == (3, 1, Status.SCHEDULED)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'race.db'}"
        return
    from tests.doubles.postgres import fresh_database

    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield url


def test_two_replicas_ticking_at_the_same_instant_run_each_job_once(make_jobs, clock, churn_csv, store_url):
    stores = [open_store(store_url), open_store(store_url)]
    try:
        replicas = [make_jobs(store, owner_id=f"replica-{n}") for n, store in enumerate(stores)]
        added = [replicas[0].add("ana", "churn", path="customers.csv", rrule="FREQ=HOURLY").id for _ in range(4)]
        clock.now = ten_oclock()
        both, ran = threading.Barrier(2), {}

        def tick(replica: Jobs) -> None:
            both.wait()
            ran[replica.owner_id] = [job.id for job in replica.tick()]

        racing = [threading.Thread(target=tick, args=(replica,)) for replica in replicas]
        for thread in racing:
            thread.start()
        for thread in racing:
            thread.join(120)
        assert sorted(ran["replica-0"] + ran["replica-1"]) == sorted(added)      # each once, by one of them
        assert all([run.number for run in job.runs] == [1] for job in replicas[1].list())
    finally:
        for store in stores:
            store.close()


def test_a_run_whose_process_died_is_taken_over_once_its_lease_lapses(make_jobs, store, clock, churn_csv):
    dead, alive = make_jobs(store, owner_id="dead", lease=60), make_jobs(store, owner_id="alive", lease=60)
    job = dead.add("ana", "churn", path="customers.csv")
    [row] = records.due(store.engine, clock())
    assert records.claim(store.engine, row, "dead", clock(), 60, None) == 1     # claimed, then the process died
    assert alive.tick() == []                                                    # its lease still holds
    assert dead.get(job.id).status == Status.RUNNING
    clock.now += 61
    [ran] = alive.tick()
    [run] = ran.runs
    assert (ran.status, run.status, run.attempts, run.rows_done) == (Status.DONE, "done", 2, ROWS)
    assert not records.finish(store.engine, job.id, 1, "dead", clock(), {"status": "failed", "error": "late"})
    assert dead.get(job.id).runs[0].status == "done"        # the dead process's late word changes nothing


def test_jobs_survive_a_restart(make_jobs, tmp_path, clock, churn_csv):
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    first = open_store(url)
    job = make_jobs(first).add("ana", "churn", path="customers.csv", rrule="FREQ=DAILY;BYHOUR=6",
                               timezone="Europe/Paris")
    first.close()
    second = open_store(url)
    try:
        again = make_jobs(second)
        assert [found.id for found in again.list()] == [job.id]
        assert again.get(job.id) == job
        clock.now = job.next_run
        assert [ran.id for ran in again.tick()] == [job.id]
    finally:
        second.close()


def test_a_cancelled_job_runs_no_more(jobs, clock, churn_csv):
    job = jobs.add("ana", "churn", path="customers.csv", rrule="FREQ=HOURLY")
    cancelled = jobs.cancel(job.id)
    assert (cancelled.status, cancelled.next_run) == (Status.CANCELLED, None)
    clock.now += 5 * HOUR
    assert jobs.tick() == []
    with pytest.raises(JobError, match="cancelled") as refused:
        jobs.run_now(job.id)
    assert refused.value.code == "cancelled"


def test_cancelling_a_job_while_it_runs_stops_it_after_the_chunk_and_keeps_no_half_result(
        make_jobs, store, churn_csv):
    runner, other = make_jobs(store, chunk_rows=10), make_jobs(store)
    job = runner.add("ana", "churn", path="customers.csv")
    seen = []

    def progress(rows: int) -> None:
        seen.append(rows)
        if rows == 10:
            other.cancel(job.id)        # as if from another process

    ran = runner.run(job.id, progress)
    [run] = ran.runs
    assert seen == [0, 10] and (ran.status, run.status, run.output, run.rows_done) == (Status.CANCELLED,
                                                                                         "cancelled", None, 10)
    assert run.error == "The job was cancelled while it ran."
    assert list((runner.output_dir / job.id).iterdir()) == []


def test_progress_is_written_as_chunks_finish(make_jobs, store, churn_csv):
    runner, watcher = make_jobs(store, chunk_rows=10), make_jobs(store)
    job = runner.add("ana", "churn", path="customers.csv")
    watched = []
    ran = runner.run(job.id, lambda rows: watched.append(watcher.get(job.id).runs[-1].rows_done))
    assert watched == [0, 10, 20, 30, 40] and ran.runs[-1].rows_done == ROWS


def test_a_process_that_stops_leaves_its_run_to_be_taken_over(make_jobs, store, clock, churn_csv):
    stopping, other = make_jobs(store, chunk_rows=10, owner_id="stopping"), make_jobs(store, owner_id="other")
    job = stopping.add("ana", "churn", path="customers.csv")

    def stop_after_first_chunk(rows: int) -> None:
        if rows == 10:
            stopping.stopping.set()     # what cancelling `serve` does

    stopping.run(job.id, stop_after_first_chunk)
    left = other.get(job.id)
    assert (left.status, left.runs[0].status, left.runs[0].rows_done) == (Status.RUNNING, "running", 10)
    assert not (stopping.output_dir / job.id).exists() or list((stopping.output_dir / job.id).iterdir()) == []
    clock.now += stopping.lease + 1
    [ran] = other.tick()
    assert (ran.status, ran.runs[0].status, ran.runs[0].attempts) == (Status.DONE, "done", 2)


def test_serve_runs_a_job_as_soon_as_it_is_added_without_blocking_its_loop(jobs, churn_csv):
    from doubles.loop import LoopThread, wait_until

    loop = LoopThread("jobs-serve")
    try:
        async def start():
            import asyncio

            return asyncio.create_task(jobs.serve(interval=600))

        serving = loop.run(start())
        wait_until(lambda: jobs._wake is not None)
        job = jobs.add("ana", "churn", path="customers.csv")          # its wake-up, not the 600 s interval
        done = wait_until(lambda: (found := jobs.get(job.id)).status == Status.DONE and found)
        assert done.runs[0].rows_done == ROWS
        loop.loop.call_soon_threadsafe(serving.cancel)
        wait_until(serving.done)
        assert jobs.stopping.is_set()
    finally:
        loop.close()


def test_a_bad_row_is_not_predicted_and_the_rest_are(jobs, folders):
    frame = churn_frame()
    frame.loc[5, "age"] = "old"
    frame.to_csv(folders.input / "bad.csv", index=False)
    job = jobs.add("ana", "churn", path="bad.csv")
    [run] = jobs.tick()[0].runs
    assert (run.status, run.rows_done, run.not_predicted) == ("done", ROWS, 2)
    written = pd.read_csv(jobs.output(job.id, 1)[0])
    assert written["not_predicted_reason"].notna().sum() == 2
    assert written.loc[5, "not_predicted_reason"].startswith("age")


def test_a_file_that_cannot_be_scored_fails_its_run_saying_why(jobs, folders):
    (folders.input / "wrong.csv").write_text("colour,shape\nred,round\n")
    job = jobs.add("ana", "churn", path="wrong.csv")
    [ran] = jobs.tick()
    [run] = ran.runs
    assert (ran.status, run.status, run.output) == (Status.FAILED, "failed", None)
    assert run.error.startswith("No column of this file is a field of churn.")
    with pytest.raises(JobError, match="Run 1 of the job has no results"):
        jobs.output(job.id, 1)


def test_a_scheduled_job_whose_file_is_not_there_yet_is_added_and_its_run_says_so(jobs, clock):
    job = jobs.add("ana", "churn", path="later.csv", rrule="FREQ=HOURLY")
    clock.now = job.next_run
    [run] = jobs.tick()[0].runs
    assert run.status == "failed" and run.error == "It cannot be read: No such file or directory."
    assert str(jobs.input_dir) not in run.error


def test_a_job_is_its_owners(jobs, churn_csv):
    job = jobs.add("ana", "churn", path="customers.csv")
    assert jobs.get(job.id, owner="bob") is None and jobs.list("bob") == []
    assert [found.id for found in jobs.list("ana")] == [job.id]
    for act in (jobs.cancel, jobs.run_now):
        with pytest.raises(JobError) as refused:
            act(job.id, owner="bob")
        assert refused.value.code == "not_found"
    assert jobs.get(job.id).status == Status.QUEUED


def test_an_uploaded_file_is_kept_beside_the_jobs_results(jobs, churn_csv, tmp_path):
    upload = tmp_path / "upload.tmp"
    upload.write_bytes(churn_csv.read_bytes())
    job = jobs.add("api:ci", "churn", upload=upload, filename="../../My Customers.csv")
    assert (job.source_name, job.source) == ("My Customers.csv", f"{job.id}/input.csv")
    assert not upload.exists()
    [run] = jobs.tick()[0].runs
    assert run.output == "My Customers-churn-1.csv" and run.not_predicted == 1


@pytest.mark.parametrize("given, code, said", [
    ("../secret.csv", "path_outside", "must name a file inside the input directory"),
    ("/etc/passwd", "path_outside", "must name a file inside the input directory"),
    ("a/../../b.csv", "path_outside", "without '..'"),
    ("C:\\data\\x.csv", "path_outside", "relative to it"),
    ("link.csv", "path_outside", "leads outside the input directory (through a symbolic link)"),
    ("notes.txt", "not_a_table", "is not a CSV or Parquet file"),
    ("picture.csv", "not_a_table", "looks like a PNG image"),
    ("fake.parquet", "not_a_table", "is not a Parquet file"),
    ("folder.csv", "not_a_table", "is a directory"),
    ("missing.csv", "no_such_file", "There is no file 'missing.csv' to score"),
])
def test_a_hostile_or_wrong_input_path_is_refused_without_naming_the_servers_directories(
        jobs, folders, tmp_path, given, code, said):
    outside = tmp_path / "outside.csv"
    outside.write_text("age,income\n1,2\n")
    (folders.input / "link.csv").symlink_to(outside)
    (folders.input / "notes.txt").write_text("age\n1\n")
    (folders.input / "picture.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (folders.input / "fake.parquet").write_text("age\n1\n")
    (folders.input / "folder.csv").mkdir()
    with pytest.raises(JobError) as refused:
        jobs.add("ana", "churn", path=given)
    assert refused.value.code == code and said in refused.value.message
    assert str(tmp_path) not in refused.value.message and jobs.list() == []


def test_a_link_made_out_of_the_input_directory_after_the_job_was_added_is_refused_at_its_run(
        jobs, folders, clock, tmp_path):
    job = jobs.add("ana", "churn", path="daily.csv", rrule="FREQ=HOURLY")
    (tmp_path / "private.csv").write_text("age,income\n1,2\n")
    (folders.input / "daily.csv").symlink_to(tmp_path / "private.csv")
    clock.now = job.next_run
    [run] = jobs.tick()[0].runs
    assert run.status == "failed" and "leads outside the input directory" in run.error
    assert run.output is None


def test_wrong_requests_are_refused_saying_what_to_do(jobs, churn_csv, make_jobs, store, registry):
    cases = [
        (dict(model="chrun"), "unknown_model", "churn"),
        (dict(format="xlsx"), "bad_format", "csv or parquet, not 'xlsx'"),
        (dict(top_k=0), "bad_top_k", "from 1 to 20"),
        (dict(rrule="FREQ=DALY"), "bad_schedule", "invalid 'FREQ': DALY"),
        (dict(rrule="FREQ=DAILY", timezone="Mars/Base"), "bad_schedule", "There is no time zone 'Mars/Base'"),
        (dict(start="2027-06-01"), "bad_schedule", "A start or end is for a schedule"),
    ]
    for change, code, said in cases:
        with pytest.raises(JobError) as refused:
            jobs.add("ana", **{"model": "churn", "path": "customers.csv", **change})
        assert (refused.value.code, said in refused.value.message) == (code, True), refused.value.message
    without = Jobs(store, registry, None, jobs.output_dir)
    with pytest.raises(JobError, match="takes no input paths") as refused:
        without.add("ana", "churn", path="customers.csv")
    assert refused.value.code == "no_input_directory"
    with pytest.raises(JobError, match="Name one input"):
        jobs.add("ana", "churn")
    assert jobs.list() == []


def test_an_unknown_model_is_refused_as_chat_refuses_it(jobs, registry):
    with pytest.raises(JobError) as refused:
        jobs.add("ana", "chrun", path="customers.csv")
    assert refused.value.message == registry.get("chrun").message
    assert "Did you mean 'churn'?" in refused.value.message


def test_a_local_file_anywhere_is_the_terminals_to_name(jobs, tmp_path):
    local = tmp_path / "elsewhere" / "mine.csv"
    local.parent.mkdir()
    churn_frame().to_csv(local, index=False)
    job = jobs.add("terminal:ana", "churn", local=local)
    assert job.source == str(local) and job.source_name == str(local)
    [run] = jobs.tick()[0].runs
    assert run.status == "done" and run.output == "mine-churn-1.csv"


def test_the_result_of_a_run_is_written_whole_or_not_at_all(jobs, churn_csv):
    job = jobs.add("ana", "churn", path="customers.csv")
    jobs.tick()
    path = jobs.output_dir / job.id / "customers-churn-1.csv"
    assert len(pd.read_csv(path)) == ROWS
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_an_output_that_was_removed_is_said_to_be_gone(jobs, churn_csv):
    job = jobs.add("ana", "churn", path="customers.csv")
    jobs.tick()
    Path(jobs.output(job.id, 1)[0]).unlink()
    with pytest.raises(JobError, match="no longer kept"):
        jobs.output(job.id, 1)
