"""Replies rendered as mail: plain text and escaped HTML, and the reply's headers."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import shapes

from bot import reply
from bot.mail.compose import compose, subject
from bot.mail.parse import parse
from bot.render.email import Answer, html, plain

ROW = reply.Row(inputs="age=45, plan=<b>", prediction="churns", confidence=0.71,
                probabilities={"stays": 0.29, "churns": 0.71}, drivers_for="churns",
                drivers=(reply.Factor("support_calls", "4", 0.194, "up"), reply.Factor("age", "45", -0.013, "down")),
                warnings=("plan was not given; the model filled it in.",))
PREDICTION = reply.Reply(reply.Status.OK, reply.Prediction((ROW,), "probability"), model="churn",
                         version="1f0c2e9a41", prediction_id="5c0e1b7a9d2f")
PARSE_ERROR = reply.Reply(reply.Status.PARSE_ERROR, reply.Unanswered(
    "I couldn't read that: expected a value.", caret="predict: age==45\n             ^", hint="Write age=45."))
BATCH = reply.Reply(reply.Status.OK, reply.Batch((reply.ScoredFile("people.csv", 2, 1, {"wrong_type": 1},
                                                                   result="people-churn-predictions.csv"),)),
                    model="churn", version="1f0c2e9a41", prediction_id="abc",
                    files=(reply.File("people-churn-predictions.csv", b"id,prediction\n1,stays\n"),))


def test_plain_part_quotes_the_command_then_the_terminal_text():
    text = plain([Answer("predict: age=45, plan=<b>", PREDICTION)], ["a note"])
    assert text.startswith("a note\n\n> predict: age=45, plan=<b>\nage=45, plan=<b>\n  -> churns (71% confident)")
    assert "+ support_calls=4 pushes toward churns (+19.4 pts)" in text
    assert "! plan was not given" in text and "[model churn v1f0c2e9a41 · id 5c0e1b7a9d2f]" in text
    assert "\n-- \n" in text


def test_html_part_has_prediction_confidence_drivers_warnings_and_escapes_everything():
    page = html([Answer("predict: age=45, plan=<b>", PREDICTION)])
    assert "<b>churns (71% confident)</b>" in page
    assert "stays 29%, churns 71%" in page
    assert "support_calls=4 pushes toward churns (+19.4 pts)" in page
    assert "⚠ plan was not given; the model filled it in." in page
    assert "plan=&lt;b&gt;" in page and "plan=<b>" not in page
    assert "model churn v1f0c2e9a41 · id 5c0e1b7a9d2f" in page


def test_a_row_predicted_to_stay_is_explained_toward_the_positive_class_in_both_parts():
    stays = reply.Row(inputs="age=60", prediction="stays", confidence=0.94, drivers_for="churns",
                      probabilities={"stays": 0.94, "churns": 0.06},
                      drivers=(reply.Factor("contract", "two year", -0.157, "down"),))
    answer = Answer("predict: age=60", reply.Reply(reply.Status.OK, reply.Prediction((stays,), "probability")))
    assert "- contract=two year pushes away from churns (-15.7 pts)" in plain([answer])
    assert "<li>contract=two year pushes away from churns (-15.7 pts)</li>" in html([answer])


def test_whatif_says_how_far_the_answer_moved_and_splits_it_into_parts_in_both_parts():
    after = reply.Row(inputs="age=45, plan=Basic", prediction="stays", confidence=0.6,
                      probabilities={"stays": 0.6, "churns": 0.4})
    body = reply.WhatIf(ROW, after, (reply.Change("plan", "<b>", "Basic"),),
                        (reply.Factor("plan", "Basic", -0.35, "down"),), "probability", "churns",
                        others=0.04, total=-0.31)
    answer = Answer("whatif", reply.Reply(reply.Status.OK, body))
    assert ("chance of churns: 71% -> 40% (-31.0 pts)\n    plan=Basic: -35.0 pts\n"
            "    other fields, through interactions: +4.0 pts") in plain([answer])
    page = html([answer])
    assert "<td>chance of churns: 71% -&gt; 40% (-31.0 pts)</td>" in page
    assert ("<tr><td>plan=Basic</td><td>-35.0 pts</td></tr>"
            "<tr><td>other fields, through interactions</td><td>+4.0 pts</td></tr>") in page


def test_parse_errors_keep_the_caret_in_a_monospace_block():
    page = html([Answer("predict: age==45", PARSE_ERROR)])
    assert "<pre>predict: age==45\n             ^</pre>" in page
    assert "    predict: age==45\n                 ^" in plain([Answer("predict: age==45", PARSE_ERROR)])


def test_every_body_kind_renders_in_both_parts():
    field = reply.Field("age", "number", "18 to 80", "years", "Age <in years>", ("years",))
    bodies = [
        reply.WhatIf(ROW, ROW, (reply.Change("income", "60000", "80000"),), (ROW.drivers[0],), "probability"),
        reply.Importances((reply.Importance("age", 0.12), reply.Importance("plan", 0.05)), "probability", 200),
        reply.SchemaInfo((field,), "predict: age=45", "Churn <model>", "churn"),
        reply.Models((reply.ModelInfo("churn", "1f0c", "classifier", "churn", "who leaves", True),)),
        reply.Models(()),
        reply.Help("predict: ...  <score a row>"),
    ]
    for b in bodies:
        answer = Answer("x", reply.Reply(reply.Status.OK, b))
        assert plain([answer]) and "<in" not in html([answer]).replace("<input", "")


def test_subject_gets_one_re():
    assert subject("churn question") == "Re: churn question"
    assert subject("RE: churn question") == "RE: churn question"
    assert subject("") == "Re: your message to predbot"


def test_the_reply_is_threaded_loop_safe_and_carries_the_result_files():
    mail = parse(shapes.plain(message_id="<m1@client.test>", extra={"References": "<m0@client.test>"}),
                 "ann@example.com")
    envelope, raw = compose(mail, "predbot@localhost", "k" * 40, [Answer("predict churn", BATCH)])
    assert envelope.mail_from == "" and envelope.rcpt_tos == ("ann@example.com",)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["To"] == "Ann Lee <ann@example.com>"
    assert message["From"] == "predbot <predbot@localhost>"
    assert message["Subject"] == "Re: churn question"
    assert message["In-Reply-To"] == "<m1@client.test>"
    assert message["References"] == "<m0@client.test> <m1@client.test>"
    assert message["Message-ID"] == f"<{'k' * 40}.reply@localhost>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(("plain",))
    assert "people.csv: 1 of 2 rows predicted" in body.get_content()
    assert message.get_body(("html",)) is not None
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "people-churn-predictions.csv"
    assert attachment.get_content() == "id,prediction\n1,stays\n"


def test_reply_to_wins_over_from_and_no_message_id_means_no_threading():
    mail = parse(shapes.plain(message_id="", extra={"Reply-To": "team@example.com"}), "ann@example.com")
    envelope, raw = compose(mail, "predbot@localhost", "k", [Answer("", PREDICTION)])
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert envelope.rcpt_tos == ("team@example.com",) and message["To"] == "team@example.com"
    assert message["In-Reply-To"] is None and message.get_content_type() == "multipart/alternative"


def remembered(answer: reply.Prediction | reply.WhatIf, prediction_id: str = "5c0e1b7a9d2f",
               outcomes: tuple[reply.Outcome, ...] = ()) -> reply.Remembered:
    return reply.Remembered(prediction_id, "2026-12-01T09:30:00+00:00", "predict: age=45, plan=<b>", "churn",
                            "1f0c2e9a41", answer, outcomes)


def test_history_is_a_table_of_ids_times_inputs_and_answers_with_what_really_happened():
    past = (remembered(PREDICTION.body, outcomes=(reply.Outcome(1, "stays"),)),
            remembered(reply.Prediction((ROW, ROW)), "0123456789ab"))
    answer = Answer("history", reply.Reply(reply.Status.OK, reply.History(past)))
    text = plain([answer])
    assert ("  5c0e1b7a9d2f  2026-12-01 09:30 UTC  churn  age=45, plan=<b> -> churns (71% confident)  "
            "[really stays]") in text
    assert "  0123456789ab  2026-12-01 09:30 UTC  churn  age=45, plan=<b>; age=45, plan=<b> -> 2 rows: churns, churns" \
        in text
    page = html([answer])
    assert ("<tr><td>5c0e1b7a9d2f</td><td>2026-12-01 09:30 UTC</td><td>churn</td><td>age=45, plan=&lt;b&gt;</td>"
            "<td>churns (71% confident)</td><td>really stays</td></tr>") in page
    assert "plan=<b>" not in page


def test_show_and_feedback_read_the_same_in_both_parts():
    shown = reply.Reply(reply.Status.OK, remembered(PREDICTION.body, outcomes=(reply.Outcome(1, "churns"),)),
                        "churn", "1f0c2e9a41", "5c0e1b7a9d2f")
    noted = reply.Reply(reply.Status.OK, reply.Noted("5c0e1b7a9d2f", 2, 3, "stays", "churns", right=False,
                                                     live=reply.LiveAccuracy("1f0c2e9a41", 4, accuracy=0.75)))
    answers = [Answer("show 5c0e1b7a9d2f", shown), Answer("feedback 5c0e1b7a9d2f row=2 actual=stays", noted)]
    text, page = plain(answers), html(answers)
    for line in ("Asked 2026-12-01 09:30 UTC: predict: age=45, plan=<b>", "Feedback: really churns",
                 "Noted: row 2 of 5c0e1b7a9d2f was stays; predicted churns, so it was wrong.",
                 "Live accuracy: v1f0c2e9a41 75% right (3 of 4 with feedback)"):
        assert line in text and line.replace("<", "&lt;").replace(">", "&gt;") in page
    assert "<b>churns (71% confident)</b>" in page


def test_models_gain_a_live_accuracy_column_once_a_model_has_feedback():
    churn = reply.ModelInfo("churn", "1f0c2e9a41", "binary classifier", "churn", "", True,
                            (reply.LiveAccuracy("1f0c2e9a41", 9, accuracy=7 / 9),))
    diabetes = reply.ModelInfo("diabetes", "0a1b2c3d4e", "regression", "progression", "",
                               live=(reply.LiveAccuracy("0a1b2c3d4e", 3, mean_absolute_error=41.26),))
    page = html([Answer("models", reply.Reply(reply.Status.OK, reply.Models((churn, diabetes))))])
    assert "<th>live accuracy</th>" in page
    assert "<td>78% right (7 of 9 with feedback)</td>" in page
    assert "<td>off by 41.3 on average (3 with feedback)</td>" in page
    assert "live accuracy" not in html([Answer("models", reply.Reply(reply.Status.OK, reply.Models((
        reply.ModelInfo("iris", "v", "multiclass classifier", "species", ""),))))])
