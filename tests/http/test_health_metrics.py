"""/healthz, /readyz and /metrics on the real app under real uvicorn: what each says, and that a scrape counts
exactly what happened."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from bot.answering import Answerer
from bot.core import Bot
from bot.http.app import build_app
from bot.http.context import Context
from bot.http.server import HttpServer
from bot.metrics import Metrics
from bot.reply import Sender
from bot.store.shared import Shared
from scoring.registry import Registry

Serving = Callable[..., str]


@pytest.fixture(scope="module")
def serving(http_loop, tmp_path_factory) -> Iterator[Serving]:
    """`serving(bot, shared=None)`: the app for `bot`, with its metrics, on a free port; its base URL."""
    started: list[tuple[HttpServer, Answerer]] = []

    def start(bot: Bot, shared: Shared | None = None) -> str:
        answerer = Answerer(bot)
        metrics = Metrics(bot)
        context = Context(answerer, shared or bot.store.shared, metrics=metrics)
        server = http_loop.run(HttpServer.start(metrics.measured(build_app(context)), "127.0.0.1", 0))
        started.append((server, answerer))
        return server.url

    yield start
    for server, answerer in started:
        http_loop.run(server.stop())
        answerer.close()


@pytest.fixture
def bot(registry, store) -> Bot:
    return Bot(registry, store=store)


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a /metrics scrape: {(name, sorted labels): value}."""
    response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_says_ok(serving, bot):
    response = httpx.get(f"{serving(bot)}/healthz")
    assert (response.status_code, response.json()) == (200, {"ok": True})


def test_readyz_is_ready_with_models_and_a_store_that_answers(serving, bot):
    response = httpx.get(f"{serving(bot)}/readyz")
    assert (response.status_code, response.json()) == (200, {"ok": True, "models": 3})


def test_readyz_without_a_model_or_a_store_says_which_without_a_path(serving, tmp_path):
    empty = tmp_path / "no-models"
    empty.mkdir()
    registry = Registry(empty)
    registry.refresh()
    gone = Shared(create_engine(f"sqlite:///{tmp_path}/missing/dir/predbot.db"))
    response = httpx.get(f"{serving(Bot(registry), gone)}/readyz")
    problem = response.json()
    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "not_ready" and [error["field"] for error in problem["errors"]] == ["models", "store"]
    assert problem["detail"] == "Not ready: no model is serving; the log says why; the store failed (OperationalError)."
    assert str(tmp_path) not in response.text


def test_a_request_is_counted_once_by_route_method_and_status(serving, bot):
    url = serving(bot)
    before = scrape(url)
    for _ in range(3):
        httpx.get(f"{url}/healthz")
    httpx.get(f"{url}/no/such/page/{'x' * 10}")
    after = scrape(url)
    healthz = {"route": "/healthz", "method": "GET", "status": "200"}
    assert value(after, "predbot_http_requests_total", **healthz) - value(
        before, "predbot_http_requests_total", **healthz) == 3
    assert value(after, "predbot_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert value(after, "predbot_http_request_seconds_count", route="/healthz", method="GET") - value(
        before, "predbot_http_request_seconds_count", route="/healthz", method="GET") == 3


def test_answers_are_counted_by_medium_command_and_status_with_each_stage_timed(serving, bot):
    url = serving(bot)
    before = scrape(url)
    bot.handle("predict: age=45, income=60000", Sender("U1", medium="slack"))
    bot.handle("predict: age=", Sender("U1", medium="email"))
    after = scrape(url)
    ok = value(after, "predbot_answers_total", medium="slack", command="predict", status="ok")
    assert ok - value(before, "predbot_answers_total", medium="slack", command="predict", status="ok") == 1
    assert sum(v for (name, labels), v in after.items()
               if name == "predbot_answers_total" and ("medium", "email") in labels) == 1
    for stage in ("parse", "score", "total"):
        assert value(after, "predbot_stage_seconds_count", stage=stage) > value(
            before, "predbot_stage_seconds_count", stage=stage)


def test_model_versions_and_the_store_queue_are_gauges(serving, bot, registry):
    samples = scrape(serving(bot))
    for model in registry.models():
        assert value(samples, "predbot_model_info", model=model.name, version=model.version) == 1
    assert ("predbot_store_queue", ()) in samples
    assert ("predbot_store_entries", (("outcome", "recorded"),)) in samples


def test_the_docs_and_the_openapi_schema_are_served_without_slacks_endpoint(serving, bot):
    url = serving(bot)
    assert httpx.get(f"{url}/docs").status_code == 200
    paths = httpx.get(f"{url}/openapi.json").json()["paths"]
    assert {"/healthz", "/readyz", "/metrics"} <= set(paths) and "/slack/events" not in paths


def test_slack_events_on_a_server_without_slack_are_a_problem(serving, bot):
    response = httpx.post(f"{serving(bot)}/slack/events", content=b"{}")
    assert response.status_code == 404 and response.json()["code"] == "slack_not_served"

