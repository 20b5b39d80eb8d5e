"""`predbot serve --workers 2`: two processes answer on the one port, one scrape sums them, a worker killed with
SIGKILL is replaced while the server goes on answering, and SIGTERM stops them all."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from doubles.loop import wait_until
from doubles.serve import Serve
from prometheus_client.parser import text_string_to_metric_families

STARTS_WITHIN = 120.0       # each worker loads the models itself, on a busy test machine
STOPS_WITHIN = 10.0


@pytest.fixture
def workers(demo_dir, tmp_path):
    server = Serve(demo_dir, tmp_path, "--workers", "2")
    server.worker = int(server.wait_for("predbot: HTTP worker ", STARTS_WITHIN).split()[3])
    yield server
    server.close()


def samples(url: str, name: str) -> list:
    families = text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text)
    return [sample for family in families for sample in family.samples if sample.name == name]


def healthz(url: str, times: int) -> list[int]:
    """`times` requests, each on a connection of its own, eight at once: the kernel hands each to either process."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: httpx.get(f"{url}/healthz", timeout=10).status_code, range(times)))


def healthz_total(url: str) -> float:
    return sum(s.value for s in samples(url, "predbot_http_requests_total") if s.labels["route"] == "/healthz")


def test_both_processes_answer_and_one_scrape_counts_every_request(workers):
    url = workers.http_url
    assert "in 2 processes" in workers.first("predbot: serving HTTP on ")
    sent = 0

    def both_answered() -> bool:
        nonlocal sent
        assert healthz(url, 16) == [200] * 16
        sent += 16
        by_process = {s.labels["pid"]: s.value for s in samples(url, "predbot_process_http_requests")}
        return set(by_process) == {str(workers.process.pid), str(workers.worker)} and all(by_process.values())

    wait_until(both_answered, timeout=60)
    assert healthz_total(url) == sent


def test_a_worker_killed_is_replaced_and_the_port_never_stops_answering(workers):
    url = workers.http_url
    os.kill(workers.worker, signal.SIGKILL)
    workers.wait_for(f"the HTTP worker {workers.worker} ended (killed by SIGKILL); starting another")
    assert healthz(url, 16) == [200] * 16
    replacement = int(workers.wait_for("predbot: HTTP worker ", STARTS_WITHIN).split()[3])
    assert replacement != workers.worker
    pids = {s.labels["pid"] for s in samples(url, "predbot_process_http_requests")}
    assert str(workers.worker) not in pids


def test_sigterm_stops_every_process_within_ten_seconds(workers):
    asked = time.monotonic()
    workers.process.send_signal(signal.SIGTERM)
    assert workers.process.wait(STOPS_WITHIN + 5) == 0
    assert time.monotonic() - asked < STOPS_WITHIN
    with pytest.raises(ProcessLookupError):
        wait_until(lambda: os.kill(workers.worker, 0), timeout=5)
