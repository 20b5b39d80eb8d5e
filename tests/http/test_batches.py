"""/v1/batches over real HTTP: jobs added from JSON and from multipart uploads, run by the server's own loop,
their results downloaded; hostile paths and uploads refused; each job its creator's."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest
from doubles.loop import wait_until

from bot.jobs import Jobs
from bot.terminal import score_file
from scoring.demo import churn_data

ROWS = 30


def churn_frame() -> pd.DataFrame:
    frame, _ = churn_data(ROWS, seed=11)
    frame = frame.astype(object)
    frame.insert(0, "id", range(ROWS))
    frame.loc[3, "income"] = "sixty"
    return frame


@dataclass
class Served:
    """A running app with batch jobs: its URL, its Jobs, and the input directory its jobs may name files under."""

    url: str
    jobs: Jobs
    input: Path

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def finished(self, client: httpx.Client, job_id: str, runs: int = 1) -> dict:
        """The job once its `runs`-th run has ended, polled over HTTP."""
        def ended() -> dict | None:
            job = client.get(f"/v1/batches/{job_id}").json()
            done = [run for run in job["runs"] if run["status"] != "running"]
            return job if len(done) >= runs else None

        return wait_until(ended, timeout=60, every=0.05)


def serving(start_api, registry, folder: Path, **settings) -> Iterator[Served]:
    """The app with Jobs over its store, and `Jobs.serve` running in the server's loop as `predbot serve` runs it."""
    running = start_api(**settings)
    (folder / "in").mkdir()
    jobs = Jobs(running.store, registry, folder / "in", folder / "out")
    running.context.jobs = jobs

    async def start() -> asyncio.Task:
        return asyncio.create_task(jobs.serve(interval=0.2))

    task = running.loop.run(start())
    frame = churn_frame()
    frame.to_csv(folder / "in" / "customers.csv", index=False)
    yield Served(running.url, jobs, folder / "in")
    running.loop.loop.call_soon_threadsafe(task.cancel)
    wait_until(task.done)


@pytest.fixture(scope="module")
def served(start_api, registry, tmp_path_factory) -> Iterator[Served]:
    yield from serving(start_api, registry, tmp_path_factory.mktemp("batches"))


@pytest.fixture(scope="module")
def keyed(start_api, api_key, registry, tmp_path_factory) -> Iterator[Served]:
    keys = (api_key("ana", "key-ana"), api_key("bob", "key-bob"), api_key("iris-only", "key-iris", ("iris",)))
    yield from serving(start_api, registry, tmp_path_factory.mktemp("keyed"), keys=keys, max_upload_bytes=20_000)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code and problem["status"] == status
    return problem


def test_a_job_named_by_path_runs_now_and_its_results_are_what_predbot_score_writes(served, registry, tmp_path):
    with served.client() as client:
        created = client.post("/v1/batches", json={"model": "churn", "path": "customers.csv"})
        assert created.status_code == 201, created.text
        job = created.json()
        assert (job["status"], job["input"], job["format"], job["schedule"]) == ("queued", "customers.csv", "csv",
                                                                                  None)
        done = served.finished(client, job["id"])
        [run] = done["runs"]
        assert (done["status"], run["status"], run["rows_done"], run["rows_not_predicted"]) == ("done", "done",
                                                                                                  ROWS, 1)
        assert run["not_predicted_reasons"] == {"wrong_type": 1}
        assert run["output"] == "customers-churn-1.csv"
        downloaded = client.get(run["output_url"])
    expected = tmp_path / "expected.csv"
    assert score_file(registry, served.input / "customers.csv", expected, "churn") == 0
    assert downloaded.status_code == 200 and downloaded.headers["content-type"].startswith("text/csv")
    assert 'filename="customers-churn-1.csv"' in downloaded.headers["content-disposition"]
    assert downloaded.text == expected.read_text()


def test_an_uploaded_file_is_scored_into_parquet(served):
    csv = churn_frame().to_csv(index=False).encode()
    with served.client() as client:
        created = client.post("/v1/batches", data={"model": "churn", "format": "parquet", "top_k": "2"},
                              files={"file": ("week 12.csv", csv, "text/csv")})
        assert created.status_code == 201, created.text
        job = created.json()
        assert (job["input"], job["format"], job["top_k"]) == ("week 12.csv", "parquet", 2)
        [run] = served.finished(client, job["id"])["runs"]
        downloaded = client.get(run["output_url"])
    assert run["output"] == "week 12-churn-1.parquet"
    written = pd.read_parquet(io.BytesIO(downloaded.content))
    assert written["id"].tolist() == [str(n) for n in range(ROWS)]     # a CSV file's columns pass through as text
    assert written["prediction"].isna().sum() == 1 and "driver_2" in written and "driver_3" not in written


def test_a_scheduled_job_says_when_it_runs_next(served):
    body = {"path": "customers.csv", "schedule": {"rrule": "FREQ=DAILY;BYHOUR=6", "timezone": "Europe/Paris"},
            "only_when_changed": True}
    with served.client() as client:
        created = client.post("/v1/batches", json=body)
        assert created.status_code == 201, created.text
        job = created.json()
        assert (job["status"], job["model"], job["only_when_changed"]) == ("scheduled", "churn", True)
        assert job["schedule"]["rrule"] == "FREQ=DAILY;BYHOUR=6" and job["schedule"]["timezone"] == "Europe/Paris"
        assert job["next_run"].endswith(("T04:00:00Z", "T05:00:00Z"))      # 06:00 in Paris, summer or winter
        assert job["id"] in [found["id"] for found in client.get("/v1/batches").json()["batches"]]
        ran = client.post(f"/v1/batches/{job['id']}/run")
        assert ran.status_code == 202
        done = served.finished(client, job["id"])
        assert done["status"] == "scheduled" and done["next_run"] == job["next_run"]


def test_cancel_then_run_is_a_conflict(served):
    with served.client() as client:
        job = client.post("/v1/batches", json={"path": "customers.csv",
                                               "schedule": {"rrule": "FREQ=HOURLY"}}).json()
        cancelled = client.delete(f"/v1/batches/{job['id']}")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["next_run"] is None
        problem = assert_problem(client.post(f"/v1/batches/{job['id']}/run"), 409, "cancelled")
        assert "add it again" in problem["detail"]


@pytest.mark.parametrize("body, code, field, said", [
    ({"path": "../../etc/passwd"}, "path_outside", "path", "must name a file inside the input directory"),
    ({"path": "/etc/passwd"}, "path_outside", "path", "must name a file inside the input directory"),
    ({"path": "missing.csv"}, "no_such_file", "path", "There is no file 'missing.csv'"),
    ({"path": "customers.csv", "model": "chrun"}, "unknown_model", "model", "Did you mean 'churn'?"),
    ({"path": "customers.csv", "schedule": {"rrule": "FREQ=DALY"}}, "bad_schedule", "schedule", "invalid 'FREQ'"),
    ({"path": "customers.csv", "schedule": {"rrule": "FREQ=DAILY", "timezone": "Europe/Pariss"}}, "bad_schedule",
     "schedule", "Did you mean Europe/Paris?"),
    ({"path": "customers.csv", "schedule": {"rrule": "FREQ=DAILY", "start": "2027-02-01T00:00:00",
                                            "end": "2027-01-01T00:00:00"}}, "bad_schedule", "schedule", "before it"),
    ({"path": "customers.csv", "schedule": {"rrule": "FREQ=DAILY;COUNT=1", "start": "2026-01-01T00:00:00Z"}},
     "bad_schedule", "schedule", "has no run after now"),
    ({"path": "customers.csv", "format": "xlsx"}, "invalid_request", "body.format", "'csv' or 'parquet'"),
    ({"path": "customers.csv", "colour": "red"}, "invalid_request", "body.colour", "Extra inputs"),
    ({"model": "churn"}, "no_input", "path", "Name one input"),
])
def test_a_wrong_job_is_refused_as_a_problem_that_says_why(served, body, code, field, said):
    with served.client() as client:
        problem = assert_problem(client.post("/v1/batches", json=body), 400, code)
        assert said in problem["detail"] and problem["errors"][0]["field"] == field
        assert str(served.input) not in problem["detail"] and str(served.jobs.output_dir) not in problem["detail"]


@pytest.mark.parametrize("name, content, said", [
    ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "looks like a PNG image"),
    ("book.xlsx", b"PK\x03\x04xl/workbook.xml", "is not a CSV or Parquet file"),
    ("fake.parquet", b"age,income\n1,2\n", "is not a Parquet file"),
])
def test_an_upload_that_is_not_a_table_is_refused(served, name, content, said):
    with served.client() as client:
        problem = assert_problem(client.post("/v1/batches", files={"file": (name, content)}), 400, "not_a_table")
    assert said in problem["detail"]
    assert list((served.jobs.output_dir / ".uploads").iterdir()) == []


def test_other_bodies_are_refused(served):
    with served.client() as client:
        assert_problem(client.post("/v1/batches", content=b"path=x", headers={"content-type": "text/plain"}), 415,
                       "unsupported_media_type")
        assert_problem(client.post("/v1/batches", data={"model": "churn"}, files={"other": ("x.csv", b"a\n")}), 400,
                       "no_file")
        assert_problem(client.post("/v1/batches", content=b"{not json", headers={"content-type": "application/json"}),
                       400, "malformed_json")
        assert_problem(client.get("/v1/batches/nope"), 404, "unknown_batch")
        assert_problem(client.get("/v1/batches/nope/runs/1/output"), 404, "unknown_batch")


def response_of(connection: socket.socket) -> str:
    """The whole of one HTTP response read from a raw socket: its head, then Content-Length bytes of body."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536) or b"\r\n\r\n"
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), b"0"))
    while len(body) < length and (more := connection.recv(65536)):
        body += more
    return (head + b"\r\n\r\n" + body).decode()


def test_an_upload_past_the_limit_is_refused_from_its_declared_length_without_waiting_for_the_rest(keyed):
    host, port = httpx.URL(keyed.url).host, httpx.URL(keyed.url).port
    head = (f"POST /v1/batches HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer key-ana\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000000\r\n\r\n"
            '--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\nage,income\n')
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(head.encode())           # and never the other 10 GB
        answer = response_of(connection)
    assert answer.startswith("HTTP/1.1 413 ")
    assert '"code":"upload_too_large"' in answer and "20,000 bytes" in answer


def test_a_chunked_upload_is_refused_once_it_passes_the_limit_without_waiting_for_its_end(keyed):
    host, port = httpx.URL(keyed.url).host, httpx.URL(keyed.url).port
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\nage,income\n'
    rows = b"45,60000\n" * 3000                    # 27,000 bytes: past the 20,000-byte limit
    head = (f"POST /v1/batches HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer key-ana\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(data), data) for data in (part, rows))
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(head + chunks)           # and neither the rest nor the last chunk
        answer = response_of(connection)
    assert answer.startswith("HTTP/1.1 413 ") and '"code":"upload_too_large"' in answer
    assert list((keyed.jobs.output_dir / ".uploads").iterdir()) == []


def test_a_job_is_its_creators_and_a_key_uses_only_its_models(keyed):
    with keyed.client("key-ana") as ana, keyed.client("key-bob") as bob, keyed.client("key-iris") as iris:
        job = ana.post("/v1/batches", json={"path": "customers.csv"}).json()
        keyed.finished(ana, job["id"])
        for response in (bob.get(f"/v1/batches/{job['id']}"), bob.delete(f"/v1/batches/{job['id']}"),
                         bob.post(f"/v1/batches/{job['id']}/run"),
                         bob.get(f"/v1/batches/{job['id']}/runs/1/output")):
            assert_problem(response, 404, "unknown_batch")
        assert bob.get("/v1/batches").json() == {"batches": []}
        assert ana.get(f"/v1/batches/{job['id']}/runs/1/output").status_code == 200
        assert_problem(iris.post("/v1/batches", json={"path": "customers.csv", "model": "churn"}), 403,
                       "model_not_allowed")
        assert_problem(iris.post("/v1/batches", json={"path": "customers.csv"}), 403, "model_not_allowed")
        assert_problem(httpx.post(f"{keyed.url}/v1/batches", json={"path": "customers.csv"}), 401, "unauthorized")
    assert keyed.jobs.get(job["id"]).owner == "api:ana"


def test_a_server_without_batch_jobs_says_so(start_api):
    with httpx.Client(base_url=start_api().url) as client:
        assert_problem(client.get("/v1/batches"), 503, "batches_off")


def test_openapi_documents_both_ways_of_adding_a_job(served):
    with served.client() as client:
        spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/batches"]["post"]["requestBody"]["content"]
    asked = body["application/json"]["schema"]
    assert {"model", "path", "format", "schedule", "only_when_changed", "top_k"} == set(asked["properties"])
    assert "rrule" in asked["properties"]["schedule"]["anyOf"][0]["properties"]
    assert "$ref" not in json.dumps(asked)
    assert body["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    assert {"BatchView", "RunView", "BatchList"} <= set(spec["components"]["schemas"])
    assert set(spec["paths"]) >= {"/v1/batches", "/v1/batches/{job_id}", "/v1/batches/{job_id}/run",
                                  "/v1/batches/{job_id}/runs/{number}/output"}
