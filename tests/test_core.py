"""bot.core.handle end to end in-process: text in, channel-neutral Reply out."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest

import parser as commands
from parser import MAX_COMMAND_CHARS
from bot import core, reply
from bot.core import Bot
from bot.render.text import render
from bot.reply import Attachment, Status
from scoring.batch import CHUNK_ROWS


@pytest.fixture(scope="module")
def bot(registry):
    return Bot(registry)


def ask(bot, text, **kwargs) -> reply.Reply:
    answer = bot.handle(text, reply.Sender("U1"), **kwargs)
    assert render(answer)  # every reply renders as text
    return answer


def test_the_readme_example_predicts_with_the_default_model(bot):
    answer = ask(bot, "predict: age=45, income=60000")
    assert answer.status is Status.OK and answer.model == "churn"
    assert len(answer.version) == 10 and len(answer.prediction_id) == 12
    [row] = answer.body.rows
    assert row.inputs == "age=45, income=60000"
    assert row.prediction in ("stays", "churns")
    assert row.confidence == max(row.probabilities.values())
    assert len(row.drivers) == 3
    assert row.warnings[0].startswith("Not given, so the model filled them in: plan, monthly_fee,")
    assert answer.body.scale == "probability"


def test_named_model_with_quoted_category_and_units(bot):
    answer = ask(bot, 'predict churn: plan="Premium Plus", fee=$80, age=50')
    [row] = answer.body.rows
    assert row.ok
    assert {d.feature for d in row.drivers} <= set(bot.registry.get("churn").schema.names)


def test_positional_values_follow_the_schema_order(bot):
    answer = ask(bot, "predict iris: 5.1, 3.5, 1.4, 0.2")
    assert answer.body.rows[0].prediction == "setosa"
    assert answer.body.scale == "log-odds"


def test_several_rows_each_get_an_answer(bot):
    answer = ask(bot, "predict: age=45 income=60k; age=30 income=sixty")
    first, second = answer.body.rows
    assert first.ok and not second.ok
    assert second.reason == "income expects a number, got 'sixty'."
    assert answer.status is Status.OK


def test_no_row_predicted_is_not_predicted(bot):
    answer = ask(bot, "predict iris: 5.1, 3.5")
    assert answer.status is Status.NOT_PREDICTED
    assert answer.body.rows[0].reason.startswith("Expected 4 values in this order: sepal_length")


def test_slash_command_form_implies_predict(bot):
    answer = ask(bot, "age=45, income=60000")
    assert answer.status is Status.OK and answer.model == "churn"


def test_unknown_model_is_refused_with_a_suggestion(bot):
    answer = ask(bot, "predict chrun: age=45")
    assert answer.status is Status.REFUSED
    assert answer.body.message == "There is no model called 'chrun'. Did you mean 'churn'?"


def test_unknown_field_gets_did_you_mean(bot):
    answer = ask(bot, "predict: agee=45")
    assert answer.body.rows[0].reason == "Unknown field 'agee'. Did you mean 'age'?"


def test_parse_errors_come_back_with_caret_and_hint(bot):
    answer = ask(bot, "predict: age==45")
    assert answer.status is Status.PARSE_ERROR
    assert "^" in answer.body.caret and answer.body.hint
    assert "Traceback" not in render(answer)


def test_whatif_reports_the_change_and_what_moved(bot):
    answer = ask(bot, "whatif: age=45, income=60000, support_calls=6 -> support_calls=0")
    assert answer.status is Status.OK
    body = answer.body
    assert [(c.feature, c.before, c.after) for c in body.changes] == [("support_calls", "6", "0")]
    assert body.before.probabilities != body.after.probabilities
    assert body.about == body.before.prediction == "churns"
    assert [d.feature for d in body.moved] == ["support_calls"]     # the changed fields; the rest in `others`
    # the moves are measured on the same class before and after, so they point where its chance went
    assert body.after.probabilities["churns"] < body.before.probabilities["churns"]
    assert body.moved[0].direction == "down"
    assert "chance of churns: " in render(answer)


@pytest.mark.parametrize("text", [
    "whatif: age=45, income=60000, support_calls=6 -> support_calls=0",
    "whatif: age=60, income=90000, contract=\"two year\", tenure=80 -> contract=month-to-month, autopay=no",
    "whatif diabetes: age=54, sex=2, bmi=36.1, bp=115, s1=163, s2=98.4, s3=43, s4=4, s5=4.68, s6=101 "
    "-> bmi=25, s5=4.2",
])
def test_whatif_parts_add_up_to_the_whole_move(bot, text):
    answer = ask(bot, text)
    body = answer.body
    if body.about:      # a binary model's positive class, whatever either row predicts
        assert body.about == "churns"
        move = body.after.probabilities["churns"] - body.before.probabilities["churns"]
    else:
        move = body.after.value - body.before.value
    assert {d.feature for d in body.moved} == {c.feature for c in body.changes}
    assert body.others != 0     # trees: unchanged fields move through their interactions with the changed ones
    assert body.total == pytest.approx(move, rel=1e-5, abs=1e-6)
    assert sum(d.contribution for d in body.moved) + body.others == pytest.approx(move, rel=1e-5, abs=1e-6)
    shown = render(answer)
    assert "other fields, through interactions: " in shown
    assert all(f"    {d.feature}={d.value}: " in shown for d in body.moved)


def test_a_row_predicted_to_stay_is_explained_toward_churns_in_words_that_stay_true(bot):
    answer = ask(bot, 'predict: age=60, income=90000, contract="two year", support_calls=0, tenure=80')
    [row] = answer.body.rows
    assert row.prediction == "stays" and row.drivers_for == "churns"
    text = render(answer)
    assert '- contract="two year" pushes away from churns (-' in text and "stays (" in text
    assert "toward stays" not in text and "away from stays" not in text
    data = answer.to_dict()["body"]["rows"][0]
    assert data["drivers_for"] == "churns" and data["base_value"] == row.base_value


def test_whatif_with_an_unknown_change_key_is_not_predicted(bot):
    answer = ask(bot, "whatif: age=45 -> incme=5")
    assert answer.status is Status.NOT_PREDICTED
    assert "Did you mean 'income'?" in answer.body.message


def test_explain_gives_global_drivers_biggest_first(bot):
    answer = ask(bot, "explain churn")
    importances = [i.mean_abs for i in answer.body.importances]
    assert importances == sorted(importances, reverse=True)
    assert {i.feature for i in answer.body.importances} == set(bot.registry.get("churn").schema.names)
    assert answer.body.rows == 200


def test_schema_example_parses_and_scores(bot):
    for name in bot.registry.names():
        answer = ask(bot, f"schema {name}")
        assert answer.status is Status.OK
        example = ask(bot, answer.body.example)
        assert example.status is Status.OK, (answer.body.example, render(example))
        assert example.model == name
        assert example.body.rows[0].warnings == ()


def test_models_lists_every_model_once(bot):
    answer = ask(bot, "models")
    assert [m.name for m in answer.body.models] == ["churn", "diabetes", "iris"]
    assert [m.default for m in answer.body.models] == [True, False, False]


def test_help_lists_every_command(bot):
    text = ask(bot, "help").body.text
    for doc in commands.COMMANDS:
        assert doc.syntax in text


def test_help_on_an_unknown_topic_suggests_one(bot):
    assert "Did you mean `help predict`?" in ask(bot, "help predcit").body.text


def test_csv_attachment_is_scored_into_a_result_file(bot):
    content = b"id,age,income\n1,45,60000\n2,50,lots\n"
    seen = []
    answer = ask(bot, "predict churn", attachments=[Attachment("people.csv", content)], progress=seen.append)
    assert answer.status is Status.OK
    [scored] = answer.body.files
    assert (scored.rows, scored.predicted, scored.reasons) == (2, 1, {"wrong_type": 1})
    [result] = answer.files
    assert result.filename == scored.result == "people-churn-predictions.csv"
    rows = list(csv.DictReader(io.StringIO(result.content.decode())))
    assert rows[1]["not_predicted_reason"] == "income expects a number, got 'lots'."
    assert seen == [2]


def test_non_csv_attachment_is_refused_politely(bot):
    answer = ask(bot, "", attachments=[Attachment("photo.png", b"\x89PNG", "image/png")])
    assert answer.status is Status.NOT_PREDICTED
    assert answer.body.files[0].error == "Only CSV files can be scored; save it as .csv."


def test_too_many_rows_in_one_message_is_refused(bot):
    answer = ask(bot, "predict: " + "; ".join("age=40" for _ in range(51)))
    assert answer.status is Status.REFUSED and "Send the rest as a CSV file" in answer.body.message


def never_parsed(monkeypatch) -> None:
    def parse(text):
        raise AssertionError("parsed a message that is refused for its size")

    monkeypatch.setattr(commands, "parse", parse)


def test_a_command_over_the_length_limit_is_refused_before_it_is_parsed(bot, monkeypatch):
    never_parsed(monkeypatch)
    answer = ask(bot, "predict: " + "a " * MAX_COMMAND_CHARS)
    assert answer.status is Status.REFUSED and answer.body.label == "too_long"
    assert f"{MAX_COMMAND_CHARS:,}" in answer.body.message and "CSV" in answer.body.message


def test_a_message_of_too_many_rows_is_refused_before_it_is_parsed(bot, monkeypatch):
    never_parsed(monkeypatch)
    answer = ask(bot, "predict: " + "; ".join("a=1" for _ in range(60)))
    assert answer.status is Status.REFUSED and answer.body.label == "too_many_rows"
    assert answer.body.message.startswith("That is 60 rows; one message takes up to 50.")


def test_fifty_rows_under_a_verb_line_of_their_own_are_all_answered(bot):
    answer = ask(bot, "predict iris:\n" + "\n".join("5.1, 3.5, 1.4, 0.2" for _ in range(50)))
    assert answer.ok and len(answer.body.rows) == 50


def test_a_key_given_twice_is_a_problem_not_the_last_value(bot):
    answer = ask(bot, "predict: age=30, income=60000, age=70")
    assert answer.status is Status.NOT_PREDICTED
    assert answer.body.rows[0].reason == "age is given more than once; give it once."


def test_a_file_past_its_deadline_stops_between_chunks_and_says_how_far_it_got(bot):
    content = b"age,income\n" + b"45,60000\n" * (CHUNK_ROWS + 1)
    answer = ask(bot, "predict churn", attachments=[Attachment("big.csv", content)],
                 deadline=time.monotonic() - 1)
    assert answer.status is Status.NOT_PREDICTED and answer.files == ()
    assert answer.body.files[0].error.startswith(f"Stopped after {CHUNK_ROWS:,} rows")


def test_an_internal_failure_is_an_apology_not_a_traceback(bot, monkeypatch, caplog):
    monkeypatch.setattr(bot, "predict", lambda *a: 1 / 0)
    answer = ask(bot, "predict: age=45")
    assert answer.status is Status.REFUSED
    assert answer.body.message.startswith("Sorry, something went wrong on our side")
    assert "ZeroDivisionError" in caplog.text


def test_a_message_of_two_commands_is_two_commands_in_order():
    assert core.commands("predict: age=45, income=60000\nAnd this one?\npredict iris: 5.1, 3.5, 1.4, 0.2") == (
        ["predict: age=45, income=60000", "predict iris: 5.1, 3.5, 1.4, 0.2"], None)


def test_a_message_with_no_command_is_taken_whole_so_it_gets_its_parse_error(bot):
    asked, left_over = core.commands("what would you say about me?")
    assert (asked, left_over) == (["what would you say about me?"], None)
    assert ask(bot, asked[0]).status is Status.PARSE_ERROR


def test_commands_past_the_limit_get_one_refusal_that_counts_them():
    asked, left_over = core.commands("\n".join(f"predict: age={20 + n}" for n in range(core.MAX_COMMANDS + 2)))
    assert asked == [f"predict: age={20 + n}" for n in range(core.MAX_COMMANDS)]
    assert left_over.status is Status.REFUSED and left_over.body.label == "too_many_commands"
    assert f"I answered the first {core.MAX_COMMANDS} and not the other 2." in left_over.body.message


def test_the_model_a_command_names_is_looked_up_once(bot, monkeypatch):
    looked_up = []
    find = bot.registry.get
    monkeypatch.setattr(bot.registry, "get", lambda name: looked_up.append(name) or find(name))
    for text in ("predict iris: 5.1, 3.5, 1.4, 0.2", "whatif: age=45 -> age=50", "explain iris", "schema churn"):
        looked_up.clear()
        assert ask(bot, text).ok
        assert len(looked_up) == 1, text


def test_predict_with_no_rows_shows_a_command_for_that_model(bot):
    answer = ask(bot, "predict iris")
    assert answer.status is Status.REFUSED and answer.body.label == "no_rows" and answer.model == "iris"
    example = answer.body.message.splitlines()[1]
    assert example.startswith("predict iris: ") and ask(bot, example).ok


@pytest.mark.parametrize("text, model", [("", "churn"), ("predict iris", "iris"), ("predict iris:", "iris"),
                                         ("please score this one", "churn"),
                                         ("predict iris: 5.1, 3.5, 1.4, 0.2", "churn")])
def test_the_text_sent_with_a_file_names_its_model_only_as_a_predict_with_no_rows(bot, text, model):
    answer = ask(bot, text, attachments=[Attachment("people.csv", b"age\n45\n")])
    assert answer.model == model


def test_refusals_are_unanswered_in_json(bot):
    assert ask(bot, "predict chrun: age=45").to_dict()["body"]["type"] == "unanswered"
    assert ask(bot, "explain churn").to_dict()["body"]["type"] == "importances"


@pytest.mark.parametrize(("channel", "way"), [
    ("terminal", "run `predbot score FILE.csv`"), ("email", "Attach the rows to a mail as a CSV file"),
    ("C0123ABCD", "Share the rows as a CSV file"), ("D0123ABCD", "in a DM with me")])
def test_the_row_limits_name_the_way_to_send_many_rows_in_the_sender_s_channel(bot, channel, way):
    sender = reply.Sender("U1", channel=channel)
    for text in ("predict: " + "; ".join("a=1" for _ in range(60)), "predict: " + "a " * MAX_COMMAND_CHARS):
        message = bot.handle(text, sender).body.message
        assert way in message
        assert ("predbot score" in message) is (channel == "terminal")


def test_required_fields_left_out_are_named_in_one_sentence(bot):
    [row] = ask(bot, "predict iris: sepal_length=5").body.rows
    assert row.reason == ("sepal_width, petal_length and petal_width are required: this model cannot fill them in. "
                          "Add sepal_width=..., petal_length=..., petal_width=...")


def test_numbers_in_replies_are_written_as_people_read_them(bot):
    [row] = ask(bot, "predict: age=45, income=1234567.8").body.rows
    assert "income=1.235M is outside the training range 20.1k to 229.8k; treat this prediction with care." in (
        row.warnings)
    answer = ask(bot, "whatif: age=45, income=60000 -> income=1234567.8")
    assert [(c.before, c.after) for c in answer.body.changes] == [("60k", "1.235M")]
    income = next(f for f in ask(bot, "schema churn").body.fields if f.name == "income")
    assert income.allowed == "20.1k to 229.8k"


@pytest.mark.parametrize(("text", "meant"), [
    ("predict churn for age 45 and income 60k", "predict churn: age=45, income=60k"),
    ("for age 45 and income 60k", "predict: age=45, income=60k"),
    ("predict: age=45, contract=two year", 'predict: age=45, contract="two year"'),
    ("predict: age=45, plan type/tier=Basic", 'predict: age=45, "plan type/tier"=Basic'),
])
def test_a_hint_shows_what_was_typed_as_a_command_that_is_answered(bot, text, meant):
    answer = ask(bot, text)
    assert answer.status is Status.PARSE_ERROR and answer.body.hint.endswith(f"`{meant}`")
    assert ask(bot, meant).status is not Status.PARSE_ERROR


def test_driver_amounts_are_short_in_the_language_s_magnitudes():
    from bot.render.words import abs_amount, amount
    assert [amount(move, "target") for move in (12.345, -1234.5, 1234567.8, 0.0)] == ["+12.3", "-1230", "+1.23M", "+0"]
    assert amount(12345.6, "log-odds") == "+12.3k log-odds" and amount(0.272, "probability") == "+27.2 pts"
    assert abs_amount(2.5e7, "target") == "25M"


def test_the_row_limit_found_after_parsing_names_the_terminal_s_tool_too(bot):
    text = "predict: " + "; ".join(f"age={20 + n}" for n in range(51))      # 51 rows: past the parser, then refused
    answer = bot.handle(text, reply.Sender("me", channel="terminal"))
    assert answer.body.label == "too_many_rows" and "`predbot score FILE.csv`" in answer.body.message


# --- Predictions remembered: recording, history, show, feedback (bot.memory) ---------------------------------

ANN = reply.Sender("ann@example.com", "Ann", "email", "email", "example.com", "<thread-1@example.com>")
BO_IN_THREAD = reply.Sender("bo@example.com", "Bo", "email", "email", "example.com", "<thread-1@example.com>")
BO_ELSEWHERE = reply.Sender("bo@example.com", "Bo", "email", "email", "example.com", "<thread-2@example.com>")


def said(bot, text, sender=ANN) -> reply.Reply:
    answer = bot.handle(text, sender)
    assert render(answer)
    return answer


def test_every_prediction_is_recorded_with_who_where_what_and_how_long(remembering, store):
    answer = said(remembering, "predict: age=45, income=60000; age=30, income=sixty")
    assert store.flush()
    kept = store.prediction(answer.prediction_id).entry
    assert (kept.channel, kept.workspace, kept.conversation, kept.thread, kept.sender) == (
        "email", "example.com", "<thread-1@example.com>", "", "ann@example.com")
    assert (kept.text, kept.model, kept.version, kept.kind) == (
        "predict: age=45, income=60000; age=30, income=sixty", "churn", answer.version, "prediction")
    first, second = kept.rows
    assert (first.index, first.inputs, first.prediction) == (0, "age=45, income=60000", answer.body.rows[0].prediction)
    assert set(first.probabilities) == {"stays", "churns"} and len(first.drivers) == 3 and first.base_value
    assert first.drivers_for == "churns" and first.warnings and first.reason is None
    assert (second.prediction, second.reason) == (None, "income expects a number, got 'sixty'.")
    assert set(kept.timings) == {"parse", "score", "total"}
    assert 0 < kept.timings["parse"] < kept.timings["total"] and 0 < kept.timings["score"] < kept.timings["total"]
    assert reply.Reply.from_dict(kept.reply) == answer


def test_whatifs_are_recorded_and_answers_without_an_id_are_not(remembering, store):
    whatif = said(remembering, "whatif: age=45, income=60000 -> income=80000")
    for text in ("explain churn", "models", "predict: age==45", "predict chrun: age=45", "help"):
        assert said(remembering, text).prediction_id is None
    assert store.flush()
    kept = store.prediction(whatif.prediction_id).entry
    assert kept.kind == "whatif" and [row.inputs for row in kept.rows] == [
        whatif.body.before.inputs, whatif.body.after.inputs]
    assert [found.entry.prediction_id for found in store.history(ANN.id)] == [whatif.prediction_id]


def test_history_lists_your_own_predictions_newest_first_with_their_ids(remembering):
    ids = [said(remembering, f"predict: age={age}, income=60000").prediction_id for age in (30, 40, 50)]
    iris = said(remembering, "predict iris: 5.1, 3.5, 1.4, 0.2").prediction_id
    said(remembering, "predict: age=60", BO_IN_THREAD)
    answer = said(remembering, "history")
    assert answer.ok and [p.prediction_id for p in answer.body.past] == [iris, *reversed(ids)]
    lines = render(answer).splitlines()
    assert lines[0] == "Your last 4 predictions, newest first:"
    assert lines[1].startswith(f"  {iris}  ") and " iris  5.1, 3.5, 1.4, 0.2 -> setosa (" in lines[1]
    assert [p.prediction_id for p in said(remembering, "history 2 CHURN").body.past] == [ids[2], ids[1]]
    first_line = render(said(remembering, "history 5 iris")).splitlines()[0]
    assert first_line == "Your last prediction with iris, newest first:"


def test_history_says_how_many_it_lists_at_most_and_when_there_is_nothing(remembering):
    said(remembering, "predict: age=30")
    assert render(said(remembering, "history 80")).splitlines()[:2] == [
        "You asked for 80; `history` lists up to 50.", "Your last prediction, newest first:"]
    assert said(remembering, "history 0").body.label == "no_count"
    assert said(remembering, "history", BO_IN_THREAD).body.past == ()
    assert "You have no predictions yet;" in render(said(remembering, "history", BO_IN_THREAD))


def test_show_gives_the_answer_again_to_its_asker_and_its_thread_not_elsewhere(remembering):
    answer = said(remembering, "predict: age=45, income=60000")
    for sender in (ANN, BO_IN_THREAD):
        again = said(remembering, f"show {answer.prediction_id}", sender)
        assert again.ok and again.body.answer == answer.body and again.body.asked == "predict: age=45, income=60000"
        assert (again.model, again.version, again.prediction_id) == (answer.model, answer.version,
                                                                      answer.prediction_id)
        shown = render(again)
        assert shown.startswith("Asked 20") and render(answer) in shown
    refused = said(remembering, f"show {answer.prediction_id}", BO_ELSEWHERE)
    assert refused.status is Status.REFUSED and refused.body.label == "not_yours"
    assert "age=45" not in render(refused)
    unknown = said(remembering, "show 0123456789ab")
    assert unknown.body.message == ("I have no prediction with id 0123456789ab. `history` lists yours, with their "
                                    "ids.")


def test_feedback_keeps_the_class_as_the_model_spells_it_and_live_accuracy_follows(remembering, store):
    first = said(remembering, "predict: age=45, income=60000, contract=month-to-month, support_calls=4")
    second = said(remembering, 'predict: age=30, income=90k, contract="two year"')
    predicted = first.body.rows[0].prediction
    other = "stays" if predicted == "churns" else "churns"
    noted = said(remembering, f"feedback {first.prediction_id} actual={predicted.upper()}")
    assert noted.ok and noted.body.actual == predicted and noted.body.right is True
    assert render(noted).splitlines()[0] == (f"Noted: {first.prediction_id} was {predicted}; predicted {predicted}, "
                                             "so it was right.")
    wrong = said(remembering, f"feedback {second.prediction_id} row=1 actual={other}", BO_IN_THREAD)
    assert wrong.body.right is (other == second.body.rows[0].prediction)
    assert [(row, actual, who) for row, actual, who, _ in store.prediction(first.prediction_id).feedback] == [
        (0, predicted, ANN.id)]
    [live] = said(remembering, "models").body.models[0].live
    assert (live.version, live.count, live.accuracy) == (first.version, 2, (1 + wrong.body.right) / 2)
    assert f"Live accuracy: v{first.version} " in render(said(remembering, "explain churn"))
    assert said(remembering, "explain iris").body.live == ()
    shown = render(said(remembering, f"show {first.prediction_id}"))
    assert f"Feedback: really {predicted}" in shown
    assert f"[really {predicted}]" in render(said(remembering, "history"))


def test_a_regressor_takes_a_number_and_says_how_far_off_it_was(remembering):
    answer = said(remembering, "predict diabetes: age=0.03, bmi=0.06")
    value = answer.body.rows[0].value
    noted = said(remembering, f"feedback {answer.prediction_id} actual={value + 10:.6f}")
    assert noted.ok and noted.body.off_by == pytest.approx(10)
    [live] = said(remembering, "models").body.models[1].live
    assert live.mean_absolute_error == pytest.approx(10) and "off by 10 on average (1 with feedback)" in render(
        said(remembering, "explain diabetes"))
    words = said(remembering, f"feedback {answer.prediction_id} actual=lots")
    assert words.body.label == "not_a_number"
    assert ask_fixes(remembering, words)


def ask_fixes(bot, refusal) -> bool:
    """The command a refusal shows is one the bot takes."""
    [command] = re.findall(r"`([^`]+)`", refusal.body.message)
    return said(bot, command).ok


@pytest.mark.parametrize(("text", "label", "words"), [
    ("feedback {id} actual=maybe", "unknown_class", "maybe is not a class of churn, which predicts stays, churns"),
    ("feedback {id} actual=?", "no_actual", "Say what it really was (stays, churns):"),
    ("feedback {id}", "no_actual", "Say what it really was (stays, churns): `feedback {id} actual="),
    ("feedback {id} row=2 actual=stays", "bad_feedback", "Prediction {id} has one row; there is no row 2."),
    ("feedback {whatif} actual=stays", "bad_feedback", "{whatif} is a what-if"),
    ("feedback {id} actual=stays", "not_yours", "was asked by someone else, somewhere else"),
    ("feedback 0123456789ab actual=stays", "unknown_id", "I have no prediction with id 0123456789ab."),
])
def test_feedback_that_cannot_be_kept_is_refused_saying_why(remembering, store, text, label, words):
    ids = {"id": said(remembering, "predict: age=45").prediction_id,
           "whatif": said(remembering, "whatif: age=45 -> age=50").prediction_id}
    refusal = said(remembering, text.format(**ids), BO_ELSEWHERE if label == "not_yours" else ANN)
    assert refusal.status is Status.REFUSED and refusal.body.label == label
    assert words.format(**ids) in refusal.body.message
    assert store.prediction(ids["id"]).feedback == ()
    if label in ("unknown_class", "no_actual"):
        assert ask_fixes(remembering, refusal)


def test_feedback_on_a_row_that_was_not_predicted_is_refused(remembering):
    answer = said(remembering, "predict: age=45; age=old")
    refusal = said(remembering, f"feedback {answer.prediction_id} row=2 actual=stays")
    assert refusal.body.label == "bad_feedback"
    assert refusal.body.message == (f"Row 2 of {answer.prediction_id} was not predicted, so there is nothing to "
                                    "compare with what happened. (age expects a whole number, got 'old'.)")


@pytest.mark.parametrize("text", ["history", "show 0123456789ab", "feedback 0123456789ab actual=stays"])
def test_without_a_store_predbot_says_it_keeps_no_history(bot, text):
    refusal = ask(bot, text)
    assert refusal.status is Status.REFUSED and refusal.body.label == "no_memory"
    assert refusal.body.message.startswith("predbot keeps no history here")
