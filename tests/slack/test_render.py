"""bot.render.slack on hand-built Replies: what people see, what never pings, Block Kit's limits."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import reply
from bot.render.slack import clip, escape, render
from doubles.slack import block_problem

PINGS = ["<!channel>", "<!here>", "<@U123>", "<http://x|y>", "<#C1|general>"]


def prediction(*rows: reply.Row, scale: str = "probability") -> reply.Reply:
    return reply.Reply(reply.Status.OK, reply.Prediction(rows, scale), model="churn", version="1f0c2e9a41",
                       prediction_id="5c0e1b7a9d2f")


CHURNS = reply.Row(
    inputs="age=45, income=60000", prediction="churns", confidence=0.71,
    probabilities={"stays": 0.29, "churns": 0.71}, drivers_for="churns",
    drivers=(reply.Factor("support_calls", "4", 0.194, "up"), reply.Factor("age", "45", -0.013, "down")),
    warnings=("plan was not given; the model filled it in.",))


def texts(message: dict) -> list[str]:
    """Every piece of text Slack would show or parse."""
    found = [message["text"]]
    for block in message["blocks"]:
        found += [block["text"]["text"]] if "text" in block else []
        found += [f["text"] for f in block.get("fields", ())]
        found += [e["text"] if isinstance(e["text"], str) else e["text"]["text"] for e in block.get("elements", ())]
    return found


def test_prediction_leads_with_the_answer_then_probabilities_drivers_warnings_feedback_buttons_and_footer():
    message = render(prediction(CHURNS))
    headline, inputs, probabilities, drivers, warnings, scale, buttons, foot = message["blocks"]
    assert headline["text"]["text"] == "*churns (71% confident)*"
    assert inputs["elements"][0]["text"] == "for age=45, income=60000"
    assert [f["text"] for f in probabilities["fields"]] == ["*stays*\n29%", "*churns*\n71%"]
    up, down = drivers["text"]["text"].splitlines()
    assert up == "▲ `██████████` support_calls=4 pushes toward churns (+19.4 pts)"
    assert down == "▼ `█░░░░░░░░░` age=45 pushes away from churns (-1.3 pts)"
    assert warnings["elements"][0]["text"] == ":warning: plan was not given; the model filled it in."
    assert "percentage points" in scale["elements"][0]["text"]
    assert foot["elements"][0]["text"] == "model churn v1f0c2e9a41 · id 5c0e1b7a9d2f"
    assert [(b["text"]["text"], b["value"]) for b in buttons["elements"]] == [
        ("✓ Right", "feedback 5c0e1b7a9d2f actual=churns"), ("✗ Wrong", "feedback 5c0e1b7a9d2f")]
    assert "churns (71% confident)" in message["text"]


def test_what_users_type_is_shown_and_never_pings_or_links():
    row = reply.Row(inputs=" ".join(PINGS), reason=f"plan expects a word, got '{PINGS[0]}'")
    message = render(prediction(row))
    dumped = json.dumps(message)
    for ping in PINGS:
        assert ping not in dumped
    assert "&lt;!channel&gt;" in message["blocks"][1]["elements"][0]["text"]
    assert "&lt;!channel&gt;" in message["text"]


def test_a_row_predicted_to_stay_names_the_class_its_drivers_explain():
    stays = reply.Row(inputs="age=60", prediction="stays", confidence=0.94,
                      probabilities={"stays": 0.94, "churns": 0.06}, drivers_for="churns",
                      drivers=(reply.Factor("contract", "two year", -0.157, "down"),
                               reply.Factor("plan", "Basic", 0.02, "up")))
    [drivers] = [b for b in render(prediction(stays))["blocks"] if "▼" in b.get("text", {}).get("text", "")]
    assert drivers["text"]["text"].splitlines() == [
        "▼ `██████████` contract=two year pushes away from churns (-15.7 pts)",
        "▲ `█░░░░░░░░░` plan=Basic pushes toward churns (+2.0 pts)"]


def test_a_regressor_row_has_no_probability_fields():
    row = reply.Row(inputs="bmi=0.05", prediction="152.1", value=152.1,
                    drivers=(reply.Factor("bmi", "0.05", 24.0, "up"),))
    blocks = render(prediction(row, scale="target"))["blocks"]
    assert not any("fields" in b for b in blocks)
    assert "raises the prediction (+24)" in blocks[2]["text"]["text"]


def test_many_rows_are_one_line_each_and_stay_inside_block_kit_limits():
    rows = tuple(reply.Row(inputs=f"age={n}, note=\"{'x' * 300}\"", prediction="stays", confidence=0.6,
                           probabilities={"stays": 0.6, "churns": 0.4}) for n in range(50))
    message = render(prediction(*rows))
    assert block_problem(message["blocks"]) is None
    assert all(len(t) <= 3000 for t in texts(message))
    shown = "\n".join(texts(message)[1:])
    assert "*1.* age=0" in shown and "*50.* age=49" in shown


def test_more_than_ten_classes_show_the_ten_likeliest():
    probabilities = {f"class{n}": (n + 1) / 78 for n in range(12)}
    row = reply.Row(inputs="x=1", prediction="class11", confidence=12 / 78, probabilities=probabilities)
    [fields] = [b for b in render(prediction(row))["blocks"] if "fields" in b]
    assert len(fields["fields"]) == 10
    assert "class0" not in json.dumps(fields) and "class11" in json.dumps(fields)


def test_a_parse_error_shows_the_caret_in_a_code_block():
    problem = reply.Unanswered("I couldn't read that: expected a value after '='.",
                            caret="predict: age=, income=<5\n             ^", hint="Try `predict: age=45`.")
    blocks = render(reply.Reply(reply.Status.PARSE_ERROR, problem))["blocks"]
    assert blocks[0]["text"]["text"] == "I couldn't read that: expected a value after '='."
    assert blocks[1]["text"]["text"] == "```\npredict: age=, income=&lt;5\n             ^\n```"
    assert blocks[2]["elements"][0]["text"] == "Try `predict: age=45`."


def test_long_help_is_split_into_closed_code_blocks():
    help_text = "\n".join(f"line {n} " + "-" * 80 for n in range(100))
    message = render(reply.Reply(reply.Status.OK, reply.Help(help_text)))
    assert len(message["blocks"]) > 1 and block_problem(message["blocks"]) is None
    assert all(b["text"]["text"].startswith("```\n") and b["text"]["text"].endswith("\n```")
               for b in message["blocks"])


def test_whatif_shows_before_after_the_move_and_its_parts():
    before = reply.Row(inputs="income=60000", prediction="churns", confidence=0.7,
                       probabilities={"stays": 0.3, "churns": 0.7})
    after = reply.Row(inputs="income=80000", prediction="stays", confidence=0.6,
                      probabilities={"stays": 0.6, "churns": 0.4})
    body = reply.WhatIf(before, after, (reply.Change("income", "60000", "80000"),),
                        (reply.Factor("income", "80000", -0.32, "down"),), "probability", "churns",
                        others=0.02, total=-0.3)
    blocks = render(reply.Reply(reply.Status.OK, body, model="churn", version="v", prediction_id="p"))["blocks"]
    assert blocks[0]["text"]["text"] == "*What if* income 60000 → 80000?"
    assert [f["text"] for f in blocks[1]["fields"]] == ["*Before*\nchurns (70% confident)",
                                                        "*After*\nstays (60% confident)",
                                                        "*Change*\nchance of churns: 70% -&gt; 40% (-30.0 pts)"]
    assert blocks[2]["text"]["text"].splitlines() == ["*What moved it*", "▼ `██████████` income=80000: -32.0 pts",
                                                      "▲ `█░░░░░░░░░` other fields, through interactions: +2.0 pts"]
    assert "percentage points" in blocks[3]["elements"][0]["text"]


def test_batch_lists_each_file_with_its_outcome():
    body = reply.Batch((reply.ScoredFile("a<b>.csv", 10, 9, {"wrong_type": 1}, result="a-churn-predictions.csv"),
                        reply.ScoredFile("notes.txt", error="Only CSV files can be scored; save it as .csv.")))
    [block] = render(reply.Reply(reply.Status.OK, body, model="churn", version="v"))["blocks"][:1]
    ok, failed = block["text"]["text"].splitlines()
    assert ok.startswith(":white_check_mark: a&lt;b&gt;.csv: 9 of 10 rows predicted")
    assert failed == ":x: notes.txt: not scored. Only CSV files can be scored; save it as .csv."


def test_share_button_carries_the_command_unless_too_long_and_shared_by_mentions_the_sharer():
    message = render(prediction(CHURNS), share="age=45, income=60000", shared_by="U42")
    *_, shared, actions = message["blocks"]
    assert shared["elements"][0]["text"] == "Shared by <@U42>"
    assert actions["elements"][0]["value"] == "age=45, income=60000"
    assert actions["elements"][0]["action_id"] == "share"
    assert render(prediction(CHURNS), share="x" * 2001)["blocks"][-1]["type"] == "context"


def test_clip_never_cuts_an_escape_in_half():
    text = escape("a" * 2996 + "<b>")
    clipped = clip(text, 3000)
    assert len(clipped) <= 3000 and clipped.endswith("a…")


ANY_TEXT = st.lists(st.sampled_from(list("<>&|!@#:x =\n`*") + PINGS + ["&amp;", "&lt;"]), max_size=300).map("".join)


@settings(max_examples=60, deadline=None)
@given(inputs=ANY_TEXT, reason=ANY_TEXT, warning=ANY_TEXT, message=ANY_TEXT, caret=ANY_TEXT, name=ANY_TEXT,
       rows=st.integers(1, 60))
def test_no_user_text_is_ever_sent_unescaped_and_limits_always_hold(inputs, reason, warning, message, caret,
                                                                      name, rows):
    good = reply.Row(inputs=inputs, prediction=name or "x", confidence=0.999,
                     probabilities={name or "x": 0.999, f"not {name}": 0.001},
                     drivers=(reply.Factor(name, inputs, 0.1, "up"),), warnings=(warning,))
    bad = reply.Row(inputs=inputs, reason=reason or "r", warnings=(warning,))
    replies = [prediction(*[good, bad] * rows),
               reply.Reply(reply.Status.PARSE_ERROR, reply.Unanswered(message or "m", caret=caret, hint=warning)),
               reply.Reply(reply.Status.OK, reply.Batch((reply.ScoredFile(name or "f", error=reason),)))]
    for answer in replies:
        rendered = render(answer, share=inputs or None)
        assert block_problem(rendered["blocks"]) is None
        for text in texts(rendered):
            assert "<" not in text and ">" not in text
            assert text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == 0


def test_a_huge_driver_amount_is_written_short_and_a_long_row_is_cut():
    row = reply.Row(inputs="sepal_length=" + "9" * 400, prediction="virginica", confidence=1.0,
                    probabilities={"setosa": 0.0, "virginica": 1.0}, drivers_for="virginica",
                    drivers=(reply.Factor("sepal_length", "3e+38", 3.4e38, "up"),))
    blocks = render(prediction(row, scale="log-odds"))["blocks"]
    assert blocks[1]["elements"][0]["text"] == f"for sepal_length={'9' * 286}… (413 characters)"
    assert blocks[3]["text"]["text"].endswith("sepal_length=3e+38 pushes toward virginica (+3.4e+38 log-odds)")


def buttons(message: dict) -> list[tuple[str, str]]:
    """The ✓ and ✗ under an answer: (action, the command it runs)."""
    return [(e["action_id"], e["value"]) for b in message["blocks"] if b.get("block_id") == "feedback"
            for e in b["elements"]]


def remembered(answer: reply.Prediction, outcomes: tuple[reply.Outcome, ...] = ()) -> reply.Remembered:
    return reply.Remembered("5c0e1b7a9d2f", "2026-12-01T09:30:00+00:00", "predict: <!channel>", "churn",
                            "1f0c2e9a41", answer, outcomes)


def test_the_check_says_the_class_predicted_happened_and_quotes_a_class_that_needs_it():
    two_words = reply.Row(inputs="x=1", prediction="two year", confidence=0.9, probabilities={"two year": 0.9})
    assert buttons(render(prediction(two_words))) == [
        ("feedback_right", 'feedback 5c0e1b7a9d2f actual="two year"'), ("feedback_wrong", "feedback 5c0e1b7a9d2f")]


@pytest.mark.parametrize("answer", [
    prediction(CHURNS, CHURNS),                                                                    # which row?
    prediction(reply.Row(inputs="bmi=0.05", prediction="152.1", value=152.1), scale="target"),     # a number
    prediction(reply.Row(inputs="age=old", reason="age expects a number")),                        # nothing to judge
    reply.Reply(reply.Status.OK, reply.Prediction((CHURNS,), "probability"), "churn", "1f0c2e9a41"),  # no id
    prediction(reply.Row(inputs="x=1", prediction="x" * 2000, confidence=1.0, probabilities={"x" * 2000: 1.0})),
])
def test_only_a_one_row_prediction_of_a_class_with_an_id_gets_the_check_and_the_cross(answer):
    assert buttons(render(answer)) == []


def test_a_prediction_shown_again_says_when_it_was_asked_and_what_really_happened():
    again = reply.Reply(reply.Status.OK, remembered(reply.Prediction((CHURNS,), "probability"),
                                                    (reply.Outcome(1, "stays"),)), "churn", "1f0c2e9a41",
                        "5c0e1b7a9d2f")
    message = render(again)
    asked, headline = message["blocks"][:2]
    assert asked["elements"][0]["text"] == "Asked 2026-12-01 09:30 UTC: predict: &lt;!channel&gt;"
    assert headline["text"]["text"] == "*churns (71% confident)*"
    assert any(b.get("elements", [{}])[0].get("text") == "Feedback: really stays" for b in message["blocks"])
    assert [action for action, _ in buttons(message)] == ["feedback_right", "feedback_wrong"]


def test_history_is_one_line_per_prediction_within_block_kit_limits():
    rows = (reply.Row(inputs="<@U123> " + "x" * 500, prediction="churns", confidence=0.7),)
    past = tuple(remembered(reply.Prediction(rows)) for _ in range(50))
    message = render(reply.Reply(reply.Status.OK, reply.History(past, asked=80)))
    assert block_problem(message["blocks"]) is None
    shown = "\n".join(texts(message)[1:])                  # the blocks, without the notification's fallback text
    assert "You asked for 80; `history` lists up to 50." in shown and "Your last 50 predictions, newest first:" in shown
    assert shown.count("`5c0e1b7a9d2f` 2026-12-01 09:30 UTC · churn · &lt;@U123&gt; xxx") == 50
    assert "<@U123>" not in shown and "→ *churns (70% confident)*" in shown


def test_feedback_noted_says_what_was_and_the_live_accuracy_now():
    noted = reply.Noted("5c0e1b7a9d2f", 1, 1, "151", "140.2", off_by=10.8,
                        live=reply.LiveAccuracy("1f0c2e9a41", 5, mean_absolute_error=12.25))
    message = render(reply.Reply(reply.Status.OK, noted, "diabetes", "1f0c2e9a41", "5c0e1b7a9d2f"))
    said, live, foot = message["blocks"]
    assert said["text"]["text"] == "Noted: 5c0e1b7a9d2f was 151; predicted 140.2, so off by +10.8."
    assert live["elements"][0]["text"] == "Live accuracy: v1f0c2e9a41 off by 12.2 on average (5 with feedback)"
    assert buttons(message) == []
