"""GET /v1/predictions/{id}/chart.png over real HTTP: the caller's own prediction drawn from the store, and a 404
problem for anyone else's, an unknown id, or an answer that has no chart."""

from __future__ import annotations

import io

import httpx
import matplotlib.image
import pytest

from bot.render import drawing

KEY_A, KEY_B = "chart-key-a-41d9", "chart-key-b-0c5e"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def keyed(start_api, api_key):
    return start_api(keys=(api_key("a", KEY_A), api_key("b", KEY_B)))


def asked(running, text: str, key: str = KEY_A) -> str:
    answer = httpx.post(f"{running.url}/v1/ask", json={"text": text}, headers=bearer(key))
    assert answer.status_code == 200, answer.text
    return answer.json()["prediction_id"]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    return response.json()


def test_the_callers_own_prediction_is_a_png_of_its_stored_drivers(keyed):
    pid = asked(keyed, "predict: age=45, income=60000")
    answer = httpx.get(f"{keyed.url}/v1/predictions/{pid}/chart.png", headers=bearer(KEY_A))
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert answer.headers["content-disposition"] == f'inline; filename="predbot-{pid}.png"'
    pixels = matplotlib.image.imread(io.BytesIO(answer.content), format="png")
    assert pixels.shape[1] == 640 and pixels.min() < pixels.max()


def test_a_whatif_is_drawn_too(keyed):
    pid = asked(keyed, "whatif: age=45, income=60000 -> contract=two-year")
    answer = httpx.get(f"{keyed.url}/v1/predictions/{pid}/chart.png", headers=bearer(KEY_A))
    assert answer.status_code == 200 and answer.content.startswith(b"\x89PNG")


def test_another_keys_prediction_and_an_unknown_id_are_the_same_404(keyed):
    pid = asked(keyed, "predict: age=45")
    theirs = assert_problem(httpx.get(f"{keyed.url}/v1/predictions/{pid}/chart.png", headers=bearer(KEY_B)), 404,
                            "unknown_prediction")
    unknown = assert_problem(httpx.get(f"{keyed.url}/v1/predictions/000000000000/chart.png",
                                       headers=bearer(KEY_B)), 404, "unknown_prediction")
    assert theirs["detail"] == unknown["detail"].replace("000000000000", pid)


def test_a_prediction_of_several_rows_has_no_chart(keyed):
    pid = asked(keyed, "predict: age=45; age=30")
    problem = assert_problem(httpx.get(f"{keyed.url}/v1/predictions/{pid}/chart.png", headers=bearer(KEY_A)), 404,
                             "no_chart")
    assert "one row" in problem["detail"]


def test_a_chart_that_fails_to_draw_is_a_503_and_logged(keyed, monkeypatch, caplog):
    pid = asked(keyed, "predict: age=45, income=60000")

    def broken(picture):
        raise RuntimeError("the canvas fell over")

    monkeypatch.setattr(drawing, "drawing_of", broken)
    problem = assert_problem(httpx.get(f"{keyed.url}/v1/predictions/{pid}/chart.png", headers=bearer(KEY_A)), 503,
                             "could_not_draw")
    assert "canvas" not in problem["detail"]
    assert any("the canvas fell over" in (record.exc_text or "") for record in caplog.records)
