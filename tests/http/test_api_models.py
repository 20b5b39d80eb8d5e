"""The rest of /v1 over real HTTP: the models and their fields, chat's commands (/v1/ask, as `predbot ask --json`),
and predictions kept: shown again, given feedback, and someone else's not found."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.core import Bot
from bot.reply import Sender

KEY_A, KEY_B = "key-of-team-a-51c2", "key-of-team-b-9e07"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def without_id(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "prediction_id"}


def test_models_lists_each_with_its_version_kind_target_and_the_default(api, registry):
    listed = {m["name"]: m for m in httpx.get(f"{api.url}/v1/models").json()["models"]}
    assert set(listed) == {"churn", "iris", "diabetes"}
    for name, info in listed.items():
        model = registry.get(name)
        assert (info["version"], info["kind"], info["target"]) == (model.version, model.kind, model.target)
        assert info["description"] == model.card.description and info["live"] == []
    assert [name for name, info in listed.items() if info["default"]] == ["churn"]


def test_a_model_describes_each_field_and_gives_a_request_that_works(api, registry):
    for name in ("churn", "iris", "diabetes"):
        detail = httpx.get(f"{api.url}/v1/models/{name}").json()
        model = registry.get(name)
        assert [f["name"] for f in detail["fields"]] == list(model.schema.names)
        assert detail["top_k"] == model.card.top_k and detail["description"] == model.card.description
        answer = httpx.post(f"{api.url}/v1/models/{name}/predict", json=detail["example_request"])
        assert answer.status_code == 200 and answer.json()["results"][0]["errors"] == []
    churn = {f["name"]: f for f in httpx.get(f"{api.url}/v1/models/Churn").json()["fields"]}
    assert churn["plan"]["kind"] == "categorical" and "Premium Plus" in churn["plan"]["categories"]
    assert churn["income"]["unit"] == "$" and "salary" in churn["income"]["aliases"]
    assert churn["age"]["allowed"] == "18 to 80" and (churn["age"]["minimum"], churn["age"]["maximum"]) == (18, 80)


def test_an_unknown_model_is_a_404_with_a_suggestion(api):
    problem = assert_problem(httpx.get(f"{api.url}/v1/models/irs"), 404)
    assert "Did you mean 'iris'?" in problem["detail"]


@pytest.mark.parametrize("text", ["predict: age=45, income=60000", "predict iris: 5.1, 3.5, 1.4, 0.2",
                                  "schema diabetes", "models", "predict: age=sixty", "predikt: age=45", "help"])
def test_ask_answers_what_predbot_ask_json_prints(api, registry, text):
    answer = httpx.post(f"{api.url}/v1/ask", json={"text": text})
    assert answer.status_code == 200
    expected = json.loads(json.dumps(Bot(registry).handle(text, Sender("someone")).to_dict()))    # as printed
    assert without_id(answer.json()) == without_id(expected)
    assert (answer.json()["prediction_id"] is None) == (expected["prediction_id"] is None)


def test_ask_refuses_empty_and_overlong_text(api):
    assert assert_problem(httpx.post(f"{api.url}/v1/ask", json={"text": "  "}), 400)["code"] == "empty_text"
    problem = assert_problem(httpx.post(f"{api.url}/v1/ask", json={"text": "predict: " + "a" * 9000}), 413)
    assert problem["code"] == "too_long" and "8,192" in problem["detail"]
    assert assert_problem(httpx.post(f"{api.url}/v1/ask", json={}), 400)["code"] == "invalid_request"


def test_a_prediction_is_shown_again_with_the_feedback_given_since(api):
    made = httpx.post(f"{api.url}/v1/models/churn/predict", json={"rows": [{"age": 45, "income": 60000},
                                                                           {"age": 30, "income": 30000}]}).json()
    pid = made["prediction_id"]
    other = next(label for label in made["results"][1]["probabilities"] if label != made["results"][1]["prediction"])
    noted = httpx.post(f"{api.url}/v1/predictions/{pid}/feedback", json={"row": 2, "actual": other})
    assert noted.status_code == 200
    assert noted.json() | {"live": None} == {"prediction_id": pid, "row": 2, "rows": 2, "actual": other,
                                             "predicted": made["results"][1]["prediction"], "right": False,
                                             "off_by": None, "live": None}
    assert noted.json()["live"]["count"] >= 1
    shown = httpx.get(f"{api.url}/v1/predictions/{pid.upper()}").json()
    assert (shown["prediction_id"], shown["model"], shown["version"]) == (pid, "churn", made["version"])
    assert shown["status"] == "ok" and shown["feedback"] == [{"row": 2, "actual": other}]
    assert [row["prediction"] for row in shown["answer"]["rows"]] == [r["prediction"] for r in made["results"]]
    assert shown["asked"] == "predict churn: age=45, income=60000; age=30, income=30000"
    live = {m["name"]: m["live"] for m in httpx.get(f"{api.url}/v1/models").json()["models"]}["churn"]
    assert live[0]["version"] == made["version"] and live[0]["count"] >= 1


def test_feedback_on_a_regression_takes_a_number(api):
    example = httpx.get(f"{api.url}/v1/models/diabetes").json()["example_request"]
    made = httpx.post(f"{api.url}/v1/models/diabetes/predict", json=example).json()
    noted = httpx.post(f"{api.url}/v1/predictions/{made['prediction_id']}/feedback", json={"actual": "150"}).json()
    assert noted["off_by"] == pytest.approx(150 - made["results"][0]["prediction"]) and noted["right"] is None
    refused = httpx.post(f"{api.url}/v1/predictions/{made['prediction_id']}/feedback", json={"actual": "lots"})
    assert "predicts a number" in assert_problem(refused, 400)["detail"]


def test_feedback_refusals_are_400s_in_chats_words(api, registry, store):
    made = httpx.post(f"{api.url}/v1/models/churn/predict", json={"rows": [{"age": 45}]}).json()
    pid = made["prediction_id"]
    chat = Bot(registry, store=store)
    said = chat.handle("predict: age=45", Sender("me"))
    for request, command in (({"actual": "maybe"}, f"feedback {said.prediction_id} actual=maybe"),
                             ({"row": 3, "actual": "stays"}, f"feedback {said.prediction_id} row=3 actual=stays")):
        problem = assert_problem(httpx.post(f"{api.url}/v1/predictions/{pid}/feedback", json=request), 400)
        words = chat.handle(command, Sender("me")).body.message
        assert problem["detail"] == words.replace(said.prediction_id, pid)
    assert assert_problem(httpx.post(f"{api.url}/v1/predictions/{pid}/feedback", json={"row": 0, "actual": "x"}),
                          400)["code"] == "invalid_request"


def test_another_keys_prediction_is_not_found_as_an_unknown_one_is_not(start_api, api_key):
    running = start_api(keys=(api_key("a", KEY_A), api_key("b", KEY_B)))
    made = httpx.post(f"{running.url}/v1/models/churn/predict", json={"rows": [{"age": 45}]},
                      headers=bearer(KEY_A)).json()
    pid = made["prediction_id"]
    assert httpx.get(f"{running.url}/v1/predictions/{pid}", headers=bearer(KEY_A)).status_code == 200
    theirs = assert_problem(httpx.get(f"{running.url}/v1/predictions/{pid}", headers=bearer(KEY_B)), 404)
    unknown = assert_problem(httpx.get(f"{running.url}/v1/predictions/000000000000", headers=bearer(KEY_B)), 404)
    assert theirs["detail"] == unknown["detail"].replace("000000000000", pid)
    assert theirs["code"] == unknown["code"] == "unknown_prediction"
    feedback = httpx.post(f"{running.url}/v1/predictions/{pid}/feedback", json={"actual": "stays"},
                          headers=bearer(KEY_B))
    assert assert_problem(feedback, 404)["detail"] == theirs["detail"]
    asked = httpx.post(f"{running.url}/v1/ask", json={"text": f"show {pid}"}, headers=bearer(KEY_A)).json()
    assert asked["status"] == "ok" and asked["body"]["type"] == "remembered"
