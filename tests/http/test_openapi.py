"""The live /openapi.json of a real server is what its routes do: schemathesis sends what the schema allows, and
what it does not, and checks that nothing is a server error and that every answer matches its documented schema.

Each operation's cases come from `operation.as_strategy()` under a derandomized hypothesis run, so a run is the
same every time. (schemathesis' `from_fixture` loader, which would give each operation a test of its own, reads
pytest internals that pytest 9 no longer has.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from bot.jobs import Jobs
from bot.metrics import Metrics

MODELS = ("churn", "iris", "diabetes")


@pytest.fixture(scope="module")
def api(start_api, registry, tmp_path_factory):
    """A server with every part `predbot serve` gives it: batch jobs (none run: nothing ticks) and metrics."""
    running = start_api()
    folder = tmp_path_factory.mktemp("openapi")
    running.context.jobs = Jobs(running.store, registry, folder / "in", folder / "out")
    running.context.metrics = Metrics(running.bot)
    return running


@pytest.fixture(scope="module")
def operations(api):
    loaded = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    return [result.ok() for result in loaded.get_all_operations()]


def test_the_schema_documents_every_route(operations):
    assert sorted(op.label for op in operations) == [
        "DELETE /v1/batches/{job_id}", "GET /healthz", "GET /metrics", "GET /readyz", "GET /v1/batches",
        "GET /v1/batches/{job_id}", "GET /v1/batches/{job_id}/runs/{number}/output", "GET /v1/models",
        "GET /v1/models/{name}", "GET /v1/predictions/{prediction_id}",
        "GET /v1/predictions/{prediction_id}/chart.png", "POST /v1/ask", "POST /v1/batches",
        "POST /v1/batches/{job_id}/run", "POST /v1/models/{name}/predict",
        "POST /v1/predictions/{prediction_id}/feedback"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_is_documented_and_none_is_a_server_error(api, operations, mode):
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not operation.body:     # nothing to get wrong in a GET's string path
            continue
        # any name, mostly no model's; then each demo model's, so that answers other than 404 are checked too
        names = [{}, *({"name": model} for model in MODELS)] if "{name}" in operation.path else [{}]
        for path_parameters in names:
            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
            @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                             HealthCheck.data_too_large])
            def conforms(case):
                case.call_and_validate(base_url=api.url, checks=[not_a_server_error, response_schema_conformance])

            conforms()
