"""POST /v1/models/{name}/predict over real HTTP: both body shapes, the three demo models, chat's reading of
values and chat's messages, drivers that add up, and every refusal as problem+json without internals."""

from __future__ import annotations

import json
import math
import socket

import httpx
import pytest
import requests

from bot.core import Bot, Observation
from bot.reply import Sender

FIELDS = {"churn": 8, "iris": 4, "diabetes": 10}
IRIS_ROW = {"sepal length": 5.1, "sepal width": 3.5, "petal length": 1.4, "petal width": 0.2}
IRIS_SCHEMA = [{"name": name, "type": "number"} for name in IRIS_ROW]
MALFORMED = b'{"rows": [{"age": 45,'
JSON = {"Content-Type": "application/json"}


def predict(url: str, model: str, body: object, **query: object) -> httpx.Response:
    return httpx.post(f"{url}/v1/models/{model}/predict", json=body, params=query, timeout=30)


def chat_reason(bot: Bot, command: str) -> str:
    """What chat says of the one row of `command`."""
    return bot.handle(command, Sender("someone")).body.rows[0].reason


def assert_problem(response: httpx.Response | requests.Response, status: int, registry) -> dict:
    """A problem+json answer of `status` that gives away no traceback, model path or pydantic internals."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    text = response.text
    for secret in ("Traceback", str(registry.directory), "pydantic", '"loc"', '"ctx"', '"url"', '"input"'):
        assert secret not in text
    problem = response.json()
    assert problem["status"] == status and problem["detail"] and problem["code"]
    return problem


def test_the_churn_example_answers_with_a_class_its_probabilities_and_drivers(api, churn):
    answer = predict(api.url, "churn", {"rows": [{"age": 45, "income": 60000}]})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert (body["model"], body["version"]) == ("churn", churn.version)
    assert len(body["prediction_id"]) == 12
    (row,) = body["results"]
    assert row["row"] == 0 and row["prediction"] in churn.labels
    assert sum(row["probabilities"].values()) == pytest.approx(1)
    assert row["confidence"] == row["probabilities"][row["prediction"]]
    assert len(row["drivers"]) == churn.card.top_k
    assert row["drivers_for"] == churn.positive_label and row["scale"] == "probability"
    assert row["not_predicted_reason"] is None and row["errors"] == []
    assert "index" not in row and "source" not in row


def test_the_flask_tutorials_client_shape_gets_iris_species(api):
    answer = requests.post(api.url + "/v1/models/iris/predict", json={"rows": [IRIS_ROW]}, timeout=30)
    assert answer.status_code == 200
    (row,) = answer.json()["results"]
    assert row["prediction"] == "setosa" and set(row["probabilities"]) == {"setosa", "versicolor", "virginica"}
    assert row["drivers_for"] == "setosa"       # multiclass: drivers explain the predicted class


def test_list_rows_named_by_a_schema_or_in_field_order_score_as_named_ones(api):
    named = predict(api.url, "iris", {"rows": [IRIS_ROW]}).json()["results"]
    by_schema = predict(api.url, "iris", {"schema": IRIS_SCHEMA, "rows": [list(IRIS_ROW.values())]}).json()
    in_order = predict(api.url, "iris", {"rows": [list(IRIS_ROW.values())]}).json()
    assert by_schema["results"] == named == in_order["results"]


def test_a_regression_predicts_a_number_whose_drivers_add_up_to_it(api, diabetes):
    example = httpx.get(f"{api.url}/v1/models/diabetes").json()["example_request"]
    (row,) = predict(api.url, "diabetes", example, include_drivers="all").json()["results"]
    assert isinstance(row["prediction"], float) and row["probabilities"] == {} and row["confidence"] is None
    assert row["scale"] == "target" and row["drivers_for"] is None
    assert len(row["drivers"]) == FIELDS["diabetes"] == len(diabetes.schema.features)
    assert row["base_value"] + sum(d["contribution"] for d in row["drivers"]) == pytest.approx(row["prediction"])


def test_every_fields_driver_and_the_base_value_add_up_to_the_explained_probability(api, churn):
    (row,) = predict(api.url, "churn", {"rows": [{"age": 45, "income": 60000, "plan": "Basic"}]},
                     include_drivers="all").json()["results"]
    assert sorted(d["field"] for d in row["drivers"]) == sorted(churn.schema.names)
    explained = row["base_value"] + sum(d["contribution"] for d in row["drivers"])
    assert explained == pytest.approx(row["probabilities"][row["drivers_for"]], abs=1e-6)
    assert {d["direction"] for d in row["drivers"]} <= {"up", "down", "none"}
    assert all(d["direction"] == ("up" if d["contribution"] > 0 else "down" if d["contribution"] < 0 else "none")
               for d in row["drivers"])


def test_drivers_can_be_fewer_or_left_out(api):
    (one,) = predict(api.url, "churn", {"rows": [{"age": 45}]}, top_k=1).json()["results"]
    (none,) = predict(api.url, "churn", {"rows": [{"age": 45}]}, include_drivers="false").json()["results"]
    assert len(one["drivers"]) == 1
    assert none["drivers"] == [] and none["base_value"] is None
    assert not any("drivers" in warning for warning in none["warnings"])
    assert none["prediction"] == one["prediction"]


def test_keys_and_values_are_read_as_chat_reads_them(api):
    plain = predict(api.url, "churn", {"rows": [{"age": 45, "income": 60000, "plan": "Premium Plus"}]}).json()
    spoken = predict(api.url, "churn", {"rows": [{"AGE": "45", "salary": "60k", "Plan Type": "premium plus"}]}).json()
    assert spoken["results"][0]["probabilities"] == plain["results"][0]["probabilities"]
    assert spoken["results"][0]["errors"] == []


def test_a_bad_row_gets_chats_message_and_the_others_still_score(api, registry):
    rows = [{"age": 45, "income": 60000}, {"age": 45, "income": "sixty"}, {"age": 30, "income": 40000}]
    first, bad, last = predict(api.url, "churn", {"rows": rows}).json()["results"]
    message = chat_reason(Bot(registry), "predict: age=45, income=sixty")
    assert message == "income expects a number, got 'sixty'."
    assert bad["prediction"] is None and bad["not_predicted_reason"] == message
    assert bad["errors"] == [{"field": "income", "message": message}]
    assert bad["probabilities"] == {} and bad["drivers"] == []
    assert first["prediction"] and last["prediction"] and first["probabilities"] != last["probabilities"]
    assert [r["row"] for r in (first, bad, last)] == [0, 1, 2]


def test_when_no_row_can_be_predicted_it_is_a_422_naming_each_row_and_field(api, registry):
    rows = [{"age": 45, "income": "sixty"}, {"age": "old", "plan": "Gold"}, {"colour": "red"}]
    problem = assert_problem(predict(api.url, "churn", {"rows": rows}), 422, registry)
    chat = Bot(registry)
    assert problem["code"] == "not_predicted"
    assert problem["errors"] == [
        {"row": 0, "field": "income", "message": chat_reason(chat, "predict: age=45, income=sixty")},
        {"row": 1, "field": "age", "message": "age expects a whole number, got 'old'."},
        {"row": 1, "field": "plan", "message": chat_reason(chat, "predict: plan=Gold")},
        {"row": 2, "field": "colour", "message": chat_reason(chat, "predict: colour=red")},
    ]
    assert "Did you mean" in problem["errors"][2]["message"] or "Choices" in problem["errors"][2]["message"]


def test_a_row_of_the_wrong_length_without_a_schema_gets_chats_count_message(api, registry):
    problem = assert_problem(predict(api.url, "iris", {"rows": [[5.1, 3.5]]}), 422, registry)
    assert problem["errors"] == [{"row": 0, "field": None,
                                  "message": chat_reason(Bot(registry), "predict iris: 5.1, 3.5")}]


def test_an_index_column_names_each_result_and_is_not_a_model_input(api):
    rows = [{"id": "c-17", "age": 45, "income": 60000}, {"id": 18, "age": 30}]
    results = predict(api.url, "churn", {"rows": rows}, index="id").json()["results"]
    assert [r["index"] for r in results] == ["c-17", 18]
    assert all(r["errors"] == [] and not any("id" in w for w in r["warnings"]) for r in results)
    listed = predict(api.url, "iris", {"schema": [{"name": "flower"}, *IRIS_SCHEMA],
                                       "rows": [["f1", *IRIS_ROW.values()]]}, index="flower").json()["results"]
    assert listed[0]["index"] == "f1" and listed[0]["prediction"] == "setosa"


def test_a_row_without_its_index_value_is_a_400_naming_it(api, registry):
    problem = assert_problem(predict(api.url, "churn", {"rows": [{"id": 1, "age": 45}, {"age": 30}]}, index="id"),
                             400, registry)
    assert problem["errors"] == [{"row": 1, "field": "rows[1]", "message": "Row 1 has no 'id' column, which `index` "
                                                                           "names."}]


def test_include_source_echoes_each_row_as_given(api):
    rows = [{"id": 7, "Age": "45", "salary": "60k"}, {"id": 8, "age": "old"}]
    results = predict(api.url, "churn", {"rows": rows}, index="id", include_source="true").json()["results"]
    assert [r["source"] for r in results] == [{"Age": "45", "salary": "60k"}, {"age": "old"}]
    listed = predict(api.url, "iris", {"rows": [[5.1, 3.5, 1.4, 0.2], [1, 2]]}, include_source="true").json()
    assert [r["source"] for r in listed["results"]] == [[5.1, 3.5, 1.4, 0.2], [1, 2]]


def test_the_reason_can_be_left_out(api):
    rows = [{"age": 45}, {"age": "old"}]
    results = predict(api.url, "churn", {"rows": rows}, include_not_predicted_reason="false").json()["results"]
    assert all("not_predicted_reason" not in r for r in results)
    assert results[1]["errors"][0]["field"] == "age"


def test_an_unknown_model_is_a_404_with_chats_suggestion(api, registry):
    problem = assert_problem(predict(api.url, "chrun", {"rows": [{"age": 45}]}), 404, registry)
    assert problem["code"] == "unknown_model" and "Did you mean 'churn'?" in problem["detail"]


def test_a_schema_naming_a_column_twice_or_a_row_of_the_wrong_length_is_a_400(api, registry):
    twice = {"schema": [{"name": "a"}, {"name": "b"}, {"name": "a"}], "rows": [[1, 2, 3]]}
    assert "'a'" in assert_problem(predict(api.url, "iris", twice), 400, registry)["detail"]
    short = {"schema": IRIS_SCHEMA, "rows": [list(IRIS_ROW.values()), [1, 2]]}
    problem = assert_problem(predict(api.url, "iris", short), 400, registry)
    assert problem["errors"] == [{"row": 1, "field": "rows[1]", "message": "Row 1 has 2 values; `schema` names 4 "
                                                                           "columns."}]


def test_more_rows_than_a_request_takes_is_a_413_that_points_to_batches(start_api, registry):
    small = start_api(max_rows=3)
    problem = assert_problem(predict(small.url, "churn", {"rows": [{"age": 45}] * 4}), 413, registry)
    assert "POST /v1/batches" in problem["detail"] and problem["code"] == "too_many_rows"
    assert predict(small.url, "churn", {"rows": [{"age": 45}] * 3}).status_code == 200


@pytest.fixture(scope="module")
def small_bodies(start_api):
    return start_api(max_body_bytes=1000)


def test_a_body_larger_than_the_limit_is_a_413_by_content_length(small_bodies, registry):
    body = {"rows": [{"age": 45, "income": 60000}] * 40}
    problem = assert_problem(predict(small_bodies.url, "churn", body), 413, registry)
    assert problem["code"] == "body_too_large" and "1,000 bytes" in problem["detail"]


def test_a_chunked_body_is_refused_once_it_passes_the_limit(small_bodies, registry):
    def chunks():
        yield b'{"rows": ['
        for _ in range(60):
            yield b'{"age": 45, "income": 60000},'
        yield b'{"age": 45}]}'

    answer = httpx.post(f"{small_bodies.url}/v1/models/churn/predict", content=chunks(),
                        headers={"Content-Type": "application/json"}, timeout=30)
    assert_problem(answer, 413, registry)


def raw_request(url: str, head: str, body: bytes) -> bytes:
    """Send `head` and `body` on a socket, leave the request unfinished, and read the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            if not (received := connection.recv(65536)):
                break
            answer += received
        return answer


def test_the_server_reads_no_further_than_the_limit_and_does_not_wait_for_the_rest(small_bodies):
    head = ("POST /v1/models/churn/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"1200\r\n" + b" " * 0x1200 + b"\r\n"      # more than the limit; the body never ends
    assert raw_request(small_bodies.url, head, chunk).startswith(b"HTTP/1.1 413")
    declared = head.replace("Transfer-Encoding: chunked", "Content-Length: 5000000")
    assert raw_request(small_bodies.url, declared, b"{").startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize("body", [MALFORMED, b'{"rows": [NaN]}', b"\xff\xfe{", b"[" * 100_000 + b"]" * 100_000])
def test_what_is_not_json_is_a_400_in_plain_words(api, registry, body):
    answer = httpx.post(f"{api.url}/v1/models/churn/predict", content=body,
                        headers={"Content-Type": "application/json"}, timeout=30)
    problem = assert_problem(answer, 400, registry)
    assert problem["code"] == "malformed_json" and "not" in problem["detail"] and "JSON" in problem["detail"]


@pytest.mark.parametrize("body", [{"rows": "all"}, {"rows": [1]}, {"rows": []}, {"rows": [{"age": [45]}]}, [],
                                  {"row": []}, {"rows": [{"age": {"years": 45}}]}, {"schema": "age", "rows": []}])
def test_a_body_of_the_wrong_shape_is_a_400_in_plain_words(api, registry, body):
    problem = assert_problem(predict(api.url, "churn", body), 400, registry)
    assert problem["code"] == "invalid_request" and problem["errors"]
    assert all(set(error) == {"field", "message"} for error in problem["errors"])


def test_half_a_surrogate_pair_is_a_400_and_a_whole_pair_is_text(api, registry):
    lone = b'{"rows": [{"age": 45, "in\\ud800come": 60000}]}'
    answer = httpx.post(f"{api.url}/v1/models/churn/predict", content=lone, headers=JSON)
    assert assert_problem(answer, 400, registry)["code"] == "malformed_json"
    paired = b'{"rows": [{"age": 45, "income": 60000, "plan": "\\ud83d\\ude00"}]}'
    answer = httpx.post(f"{api.url}/v1/models/churn/predict", content=paired, headers=JSON)
    problem = assert_problem(answer, 422, registry)
    assert problem["errors"][0]["field"] == "plan" and "\U0001f600" in problem["errors"][0]["message"]


def test_a_row_of_far_more_keys_than_fields_is_refused_whole_in_one_message(api, registry, churn):
    from scoring.batch import column_limit

    most = column_limit(churn)
    junk = {f"k{i}": i for i in range(most + 1)}
    answer = predict(api.url, "churn", {"rows": [{"age": 45, "income": 60000}, junk]})
    assert answer.status_code == 200
    refused = answer.json()["results"][1]
    assert refused["errors"] == [{"field": None, "message": f"This row has {most + 1:,} keys; a row may have up to "
                                                          f"{most:,}. Give the model's fields."}]


def test_a_row_with_many_problems_names_the_first_ten_and_counts_the_rest(api, registry):
    junk = {f"unknown{i}": i for i in range(25)}
    problem = assert_problem(predict(api.url, "churn", {"rows": [junk]}), 422, registry)
    assert [error["field"] for error in problem["errors"]] == [f"unknown{i}" for i in range(10)] + [None]
    assert problem["errors"][-1]["message"] == "And 15 more problems with this row."


def test_a_body_not_sent_as_json_is_a_415(api, registry):
    answer = httpx.post(f"{api.url}/v1/models/churn/predict", content=json.dumps({"rows": [{"age": 45}]}),
                        headers={"Content-Type": "text/plain"})
    assert "application/json" in assert_problem(answer, 415, registry)["detail"]


def test_a_number_too_large_for_a_float_gets_chats_message(api, registry):
    answer = httpx.post(f"{api.url}/v1/models/churn/predict", content=b'{"rows": [{"age": 45, "income": 1e400}]}',
                        headers={"Content-Type": "application/json"}, params={"include_source": "true"})
    problem = assert_problem(answer, 422, registry)
    assert problem["errors"][0]["message"] == chat_reason(Bot(registry), "predict: age=45, income=1e400")


def test_values_may_be_text_numbers_booleans_or_null(api):
    rows = [{"age": None, "income": 60000.5, "autopay": True, "plan": "Basic"}]
    (row,) = predict(api.url, "churn", {"rows": rows}).json()["results"]
    assert row["prediction"] and any("age" in warning for warning in row["warnings"])
    assert all(math.isfinite(d["contribution"]) for d in row["drivers"])


def test_a_prediction_is_recorded_and_observed_as_chats_are(start_api, registry, store):
    seen: list[Observation] = []
    bot = Bot(registry, store=store)
    bot.observers.append(seen.append)
    running = start_api(bot=bot)
    body = predict(running.url, "churn", {"rows": [{"age": 45, "income": 60000}, {"age": "old"}]}).json()
    assert [(o.medium, o.command, o.status) for o in seen] == [("api", "predict", "ok")]
    assert set(seen[0].seconds) == {"parse", "score", "total"}
    store.flush(5)
    kept = store.prediction(body["prediction_id"]).entry
    assert (kept.channel, kept.sender, kept.model) == ("api", "local", "churn")
    assert kept.text == "predict churn: age=45, income=60000; age=old"
    assert [row.prediction for row in kept.rows] == [body["results"][0]["prediction"], None]
    assert kept.timings["total"] >= kept.timings["score"] > 0
