"""Who may call /v1: Bearer keys (401), a key's models (403), loopback only without keys (403), and a per-key rate
limit counted in the store across replicas (429 with Retry-After); a key's text never reaches the log."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

CI_KEY, CHURN_KEY = "ci-key-8f3b2d1c", "churn-only-key-77a0e5"
ROW = {"rows": [{"age": 45, "income": 60000}]}
IRIS = {"rows": [[5.1, 3.5, 1.4, 0.2]]}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def keyed(start_api, api_key):
    return start_api(keys=(api_key("ci", CI_KEY), api_key("churn-team", CHURN_KEY, ("churn",))))


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    return response.json()


@pytest.mark.parametrize("headers", [{}, bearer("not-a-key"), {"Authorization": CI_KEY}, {"Authorization": "Bearer"}])
def test_without_a_valid_key_every_route_is_a_401_that_says_how(keyed, headers):
    for method, path in (("POST", "/v1/models/churn/predict"), ("GET", "/v1/models"), ("GET", "/v1/models/churn"),
                         ("POST", "/v1/ask"), ("GET", "/v1/predictions/0123456789ab")):
        body = ROW if path.endswith("predict") else {"text": "models"} if method == "POST" else None
        answer = httpx.request(method, keyed.url + path, headers=headers, json=body)
        problem = assert_problem(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"] == 'Bearer realm="predbot"'
        assert "Authorization: Bearer KEY" in problem["detail"]


def test_a_valid_key_is_answered(keyed):
    answer = httpx.post(f"{keyed.url}/v1/models/iris/predict", json=IRIS, headers=bearer(CI_KEY))
    assert answer.status_code == 200 and answer.json()["results"][0]["prediction"] == "setosa"


def test_a_key_restricted_to_churn_gets_a_403_for_other_models_everywhere(keyed):
    headers = bearer(CHURN_KEY)
    assert httpx.post(f"{keyed.url}/v1/models/churn/predict", json=ROW, headers=headers).status_code == 200
    problem = assert_problem(httpx.post(f"{keyed.url}/v1/models/iris/predict", json=IRIS, headers=headers), 403,
                             "model_not_allowed")
    assert "'churn-team'" in problem["detail"] and "'iris'" in problem["detail"]
    assert_problem(httpx.get(f"{keyed.url}/v1/models/IRIS", headers=headers), 403, "model_not_allowed")
    assert_problem(httpx.post(f"{keyed.url}/v1/ask", json={"text": "predict iris: 5.1, 3.5, 1.4, 0.2"},
                              headers=headers), 403, "model_not_allowed")
    assert_problem(httpx.post(f"{keyed.url}/v1/ask", json={"text": "explain diabetes"}, headers=headers), 403,
                   "model_not_allowed")
    asked = httpx.post(f"{keyed.url}/v1/ask", json={"text": "predict: age=45"}, headers=headers)   # the default
    assert asked.status_code == 200 and asked.json()["model"] == "churn"
    listed = httpx.get(f"{keyed.url}/v1/models", headers=headers).json()["models"]
    assert [m["name"] for m in listed] == ["churn"]
    everything = httpx.get(f"{keyed.url}/v1/models", headers=bearer(CI_KEY)).json()["models"]
    assert [m["name"] for m in everything] == ["churn", "diabetes", "iris"]


def test_without_keys_the_api_answers_loopback_clients_only(api):
    async def from_address(host: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=api.app, client=(host, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://predbot") as client:
            return await client.get("/v1/models")

    problem = assert_problem(asyncio.run(from_address("203.0.113.5")), 403, "api_keys_not_configured")
    assert "PREDBOT_API_KEYS" in problem["detail"]
    assert asyncio.run(from_address("127.0.0.1")).status_code == 200
    assert asyncio.run(from_address("::1")).status_code == 200
    assert httpx.get(f"{api.url}/v1/models").status_code == 200


def test_the_rate_limit_is_counted_in_the_store_across_replicas(start_api, api_key, new_shared):
    together = new_shared()
    keys = (api_key("ci", CI_KEY), api_key("other", CHURN_KEY))
    first, second = (start_api(keys=keys, rate=(2, 60.0), together=together) for _ in range(2))
    assert httpx.get(f"{first.url}/v1/models", headers=bearer(CI_KEY)).status_code == 200
    assert httpx.get(f"{second.url}/v1/models", headers=bearer(CI_KEY)).status_code == 200
    for replica in (first, second):
        answer = httpx.get(f"{replica.url}/v1/models", headers=bearer(CI_KEY))
        problem = assert_problem(answer, 429, "rate_limited")
        assert 0 < int(answer.headers["retry-after"]) <= 60
        assert "'ci'" in problem["detail"] and f"{answer.headers['retry-after']} s" in problem["detail"]
    assert httpx.get(f"{first.url}/v1/models", headers=bearer(CHURN_KEY)).status_code == 200   # its own count


def test_a_keys_text_is_never_logged(start_api, api_key, caplog):
    caplog.set_level(logging.DEBUG)
    running = start_api(keys=(api_key("ci", CI_KEY),), rate=(1, 60.0))
    answers = [httpx.post(f"{running.url}/v1/models/churn/predict", json=ROW, headers=bearer(CI_KEY)),
               httpx.post(f"{running.url}/v1/models/churn/predict", json=ROW, headers=bearer(CI_KEY)),
               httpx.get(f"{running.url}/v1/models", headers=bearer("wrong-" + CI_KEY))]
    assert [a.status_code for a in answers] == [200, 429, 401]
    assert caplog.records
    assert CI_KEY not in caplog.text
    assert all(CI_KEY not in a.text for a in answers)
