"""`predbot serve` as a real process always serves HTTP: the health checks, metrics and docs on its port, a start
line that says what it serves, SIGTERM within serve's limits, and a port in use as one line."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from doubles.serve import ROOT
from prometheus_client.parser import text_string_to_metric_families

from bot.http.server import listening

STOPS_WITHIN = 10.0


def healthz_count(url: str) -> float:
    families = text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text)
    return sum(sample.value for family in families for sample in family.samples
               if sample.name == "predbot_http_requests_total" and sample.labels["route"] == "/healthz")


def test_serve_answers_health_metrics_and_docs_on_its_http_port(serve):
    url = serve().http_url
    assert httpx.get(f"{url}/healthz").json() == {"ok": True}
    assert httpx.get(f"{url}/readyz").json() == {"ok": True, "models": 3}
    assert httpx.get(f"{url}/docs").status_code == 200
    assert "/readyz" in httpx.get(f"{url}/openapi.json").json()["paths"]
    before = healthz_count(url)
    for _ in range(4):
        httpx.get(f"{url}/healthz")
    assert healthz_count(url) - before == 4


def test_the_start_line_says_the_api_is_loopback_only_without_keys(serve):
    server = serve()
    url = server.http_url
    assert server.first("predbot: serving HTTP on ") == (
        f"predbot: serving HTTP on {url}: the API (loopback only: no API keys configured), /metrics, "
        "/docs\n")


def test_the_start_line_counts_the_keys_and_never_shows_one(serve):
    server = serve(env={"PREDBOT_API_KEYS": "ci=k3y-never-shown,ops=other"})
    url = server.http_url
    line = server.first("predbot: serving HTTP on ")
    assert line == f"predbot: serving HTTP on {url}: the API (2 API keys), /metrics, /docs\n"
    assert server.count("k3y-never-shown") == 0


def test_sigterm_stops_serve_and_its_http_server_within_ten_seconds(serve):
    server = serve()
    url = server.http_url
    with httpx.Client() as idle:            # a kept-alive connection must not hold the server up
        assert idle.get(f"{url}/healthz").status_code == 200
        asked = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(STOPS_WITHIN + 5) == 0
    assert time.monotonic() - asked < STOPS_WITHIN
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz")


def test_a_port_in_use_is_one_line_and_exit_two(demo_dir, tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--no-chat", "--models", str(demo_dir),
                                 "--smtp-port", "0", "--port", str(port), "--data", str(tmp_path)], cwd=ROOT,
                                env=environment, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.endswith(f"\npredbot: HTTP: cannot listen on 127.0.0.1:{port}: Address already in use\n")
    assert "Traceback" not in result.stderr


def test_connections_to_the_bound_socket_send_at_once_without_waiting_for_acks():
    """The socket serve binds (and --workers share) names its protocol, so asyncio turns Nagle's algorithm off on
    each connection: a response written in two parts then never waits for the client's delayed ACK."""
    async def accept_one() -> int:
        accepted = asyncio.get_running_loop().create_future()

        class Record(asyncio.Protocol):
            def connection_made(self, transport: asyncio.Transport) -> None:
                accepted.set_result(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP,
                                                                                  socket.TCP_NODELAY))

        server = await asyncio.get_running_loop().create_server(Record, sock=listening("127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(accept_one()) != 0
