"""The chart of a reply: a PNG that decodes, whose bars and labels are the Reply's own numbers and words.

Each chart is checked on its Drawing before it is painted (bot.render.drawing.drawing_of), where its bars can be
read back: they start at the base value and add up to the explained output the text's drivers explain. How a
Drawing turns into pixels is tests/render/test_drawing.py's.
"""

from __future__ import annotations

import io
import logging
import math
import subprocess
import sys

import matplotlib.image
import pandas as pd
import pytest

from bot import reply
from bot.core import Bot
from bot.render import chart, drawing

CHURN = "predict: age=45, income=60000, contract=month-to-month"


@pytest.fixture(scope="module")
def bot(registry) -> Bot:
    return Bot(registry)


def bars_of(answer: reply.Reply) -> tuple[list[str], list[tuple[float, float, str]]]:
    """The rows' labels top to bottom, and each bar placed as (start, length, kind) top to bottom."""
    placed = drawing.drawing_of(chart.picture_of(answer)).placed
    assert [p.box[1] for p in placed] == sorted(p.box[1] for p in placed)
    return [p.step.label for p in placed], [(p.step.start, p.step.length, p.step.kind) for p in placed
                                            if isinstance(p.step, drawing.Bar)]


def decoded(png: bytes):
    return matplotlib.image.imread(io.BytesIO(png), format="png")


def test_a_binary_prediction_is_a_waterfall_from_the_base_to_the_chance_of_its_positive_class(bot):
    answer = bot.handle(CHURN)
    row = answer.body.rows[0]
    labels, bars = bars_of(answer)
    assert labels == ["base value", "contract = month-to-month",
                      *(f"{d.feature} (not given)" for d in row.drivers[1:]), "other fields", "P(churns)"]
    assert [length for _, length, kind in bars if kind == "push"] == pytest.approx([d.contribution for d in
                                                                                    row.drivers])
    assert bars[0][0] == pytest.approx(row.base_value)
    for (start, length, _), (following, _, _) in zip(bars, bars[1:], strict=False):
        assert following == pytest.approx(start + length)
    assert sum(length for _, length, _ in bars) == pytest.approx(row.probabilities["churns"] - row.base_value)
    assert [kind for *_, kind in bars][-1] == "others"


def test_the_marks_say_the_base_and_the_final_chance(bot):
    answer = bot.handle(CHURN)
    row = answer.body.rows[0]
    base, final = chart.picture_of(answer).marks
    assert (base.at, base.note) == (row.base_value, f"{row.base_value * 100:.1f}%")
    assert final.at == pytest.approx(row.probabilities["churns"])
    assert final.note == f"{row.probabilities['churns'] * 100:.1f}%"


def test_a_regression_adds_up_to_its_predicted_value_in_target_units(bot):
    answer = bot.handle("predict diabetes: age=50, bmi=31, bp=90")
    row = answer.body.rows[0]
    labels, bars = bars_of(answer)
    assert labels[1:3] == ["bmi = 31", "bp = 90"] and labels[-1] == "prediction"
    assert sum(length for _, length, _ in bars) == pytest.approx(row.value - row.base_value)
    picture = chart.picture_of(answer)
    assert picture.marks[-1].note == row.prediction and "target units" in picture.axis


@pytest.mark.parametrize("drivers, others", [(3, ["other fields"]), ("all", [])])
def test_a_multiclass_prediction_ends_at_the_models_own_margin(bot, iris, drivers, others):
    """Its margin is not in the Reply's probabilities (a softmax hides it), so the row carries what its drivers,
    all of them, add up to; the fields not shown are grouped, and there are none when every driver is."""
    scored = bot.predict_rows("iris", [[6.1, 2.8, 4.7, 1.2]], drivers=drivers)
    answer, row = scored.reply, scored.reply.body.rows[0]
    labels, bars = bars_of(answer)
    assert labels == ["base value", *(f"{d.feature} = {d.value}" for d in row.drivers), *others, row.drivers_for]
    frame = pd.DataFrame([[6.1, 2.8, 4.7, 1.2]], columns=["sepal_length", "sepal_width", "petal_length",
                                                          "petal_width"])
    margin = iris.estimator.decision_function(frame)[0][iris.labels.index(row.drivers_for)]
    assert sum(length for _, length, _ in bars) == pytest.approx(margin - row.base_value)
    picture = chart.picture_of(answer)
    assert picture.axis == f"log-odds of {row.drivers_for}"
    assert picture.marks[-1].note == f"{margin:.2f} ({round(row.confidence * 100)}%)"


def test_a_multiclass_answer_kept_from_before_rows_carried_their_output_stops_at_the_fields_shown(bot):
    kept = bot.handle("predict iris: 5.1, 3.5, 1.4, 0.2").to_dict()
    for row in kept["body"]["rows"]:
        del row["output"]
    answer = reply.Reply.from_dict(kept)
    row = answer.body.rows[0]
    labels, bars = bars_of(answer)
    assert labels[-1] == "fields shown" and "other fields" not in labels
    assert sum(length for _, length, _ in bars) == pytest.approx(sum(d.contribution for d in row.drivers))
    assert "(the other fields are not shown)" in chart.chart_of(answer).alt


def test_a_whatif_runs_from_the_answer_before_to_the_one_after(bot):
    answer = bot.handle("whatif: age=45, income=60000 -> contract=two-year")
    b = answer.body
    labels, bars = bars_of(answer)
    assert labels == ["before: stays", "contract = two-year", "other fields (interactions)", "after: stays"]
    assert [length for _, length, _ in bars] == pytest.approx([b.moved[0].contribution, b.others])
    assert bars[0][0] == pytest.approx(b.before.probabilities["churns"])
    assert sum(length for _, length, _ in bars) == pytest.approx(b.total)
    assert b.before.probabilities["churns"] + b.total == pytest.approx(b.after.probabilities["churns"])
    assert chart.chart_of(answer).filename == f"predbot-whatif-{answer.prediction_id}.png"


def test_explain_is_a_bar_per_field_of_its_mean_push(bot):
    answer = bot.handle("explain diabetes")
    labels, bars = bars_of(answer)
    assert labels == [i.feature for i in answer.body.importances]
    assert [start for start, _, _ in bars] == [0.0] * len(bars)
    assert [length for _, length, _ in bars] == pytest.approx([i.mean_abs for i in answer.body.importances])
    assert chart.chart_of(answer).filename == "predbot-explain-diabetes.png"


@pytest.mark.parametrize("text", [CHURN, "predict iris: 6.1, 2.8, 4.7, 1.2", "predict diabetes: age=50, bmi=31",
                                  "whatif: age=45, income=60000 -> contract=two-year", "explain churn"])
def test_every_chart_is_a_png_of_640_pixels_across_that_is_not_blank(bot, text):
    drawn = chart.chart_of(bot.handle(text))
    pixels = decoded(drawn.png)
    assert pixels.shape[1] == 640 and 200 <= pixels.shape[0] <= 900
    assert len({tuple(p) for p in pixels.reshape(-1, pixels.shape[2])[::97]}) > 10


def test_the_alt_text_says_the_same_facts_in_words(bot):
    answer = bot.handle(CHURN)
    row = answer.body.rows[0]
    alt = chart.chart_of(answer).alt
    contract = row.drivers[0].contribution
    assert alt.startswith(f"Predicted stays ({round(row.confidence * 100)}% confident). From a base of "
                          f"{row.base_value * 100:.1f}%, contract = month-to-month raised the chance of churns by "
                          f"{contract * 100:.1f} points")
    assert alt.endswith(f"to {row.probabilities['churns'] * 100:.1f}%.")


def test_a_long_value_is_cut_on_its_bar():
    long = "a note that goes on and on about this customer"
    row = reply.Row("note=...", "stays", confidence=0.7, probabilities={"churns": 0.3, "stays": 0.7},
                    drivers=(reply.Factor("note", long, -0.1, "down"),), drivers_for="churns", base_value=0.4)
    labels, _ = bars_of(reply.Reply(reply.Status.OK, reply.Prediction((row,), "probability"), "churn", "1", "ab12"))
    assert labels[1] == f"note = {long}"[:chart.LABEL_CHARS - 1] + "…"


@pytest.mark.parametrize("text", ["predict: age=45; age=30", "help", "models", "predict nosuch: a=1",
                                  "predict: age=banana", "schema churn"])
def test_answers_without_a_picture_have_no_chart(bot, text):
    answer = bot.handle(text)
    assert not chart.draws(answer) and chart.chart_of(answer) is None


def test_a_remembered_answer_shown_again_is_drawn(remembering):
    asked = remembering.handle(CHURN, reply.Sender("u1"))
    again = remembering.show(asked.prediction_id, reply.Sender("u1"))
    assert chart.draws(again)
    _, bars = bars_of(again)
    assert [length for _, length, kind in bars if kind == "push"] == pytest.approx([
        d.contribution for d in asked.body.rows[0].drivers])


def test_a_drawing_that_fails_is_logged_and_gives_no_chart(bot, monkeypatch, caplog):
    answer = bot.handle(CHURN)

    def broken(picture):
        raise RuntimeError("no canvas today")

    monkeypatch.setattr(drawing, "drawing_of", broken)
    with caplog.at_level(logging.ERROR, logger="bot.render.chart"):
        assert chart.chart_of(answer) is None
    [record] = caplog.records
    assert answer.prediction_id in record.getMessage() and "no canvas today" in record.exc_text


def test_a_row_whose_chance_is_certain_has_no_log_odds_to_end_at():
    row = reply.Row("x=1", "a", confidence=1.0, probabilities={"a": 1.0, "b": 0.0}, drivers_for="a", base_value=0.0,
                    drivers=(reply.Factor("x", "1", 3.0, "up"),))
    assert chart.explained_output(row, "log-odds") is None
    assert chart.explained_output(row, "probability") == 1.0
    assert math.isclose(chart.explained_output(reply.Row("x=1", "a", probabilities={"a": 0.5, "b": 0.5},
                                                         drivers_for="a"), "raw score"), 0.0)


def test_importing_the_chart_module_imports_neither_matplotlib_nor_pillow():
    program = "import sys, bot.render.chart; print(sorted({'matplotlib', 'PIL'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_answering_a_prediction_without_showing_its_chart_never_loads_the_drawing_backend(demo_dir):
    """shap imports matplotlib (and with it Pillow's Image) itself, so what a reply without a chart must not do is
    draw: load Pillow's ImageDraw."""
    program = ("import sys\n"
               "from bot.core import Bot\nfrom bot.render import chart, text\nfrom scoring.registry import Registry\n"
               f"registry = Registry({str(demo_dir)!r})\nregistry.refresh()\n"
               f"answer = Bot(registry).handle({CHURN!r})\n"
               "assert chart.draws(answer) and text.render(answer)\n"
               "print('PIL.ImageDraw' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
