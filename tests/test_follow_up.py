"""Follow-ups in a conversation (bot.follow_up): `whatif: income=80000` and `predict: age=50` build on the
conversation's last prediction, say which, and nowhere else."""

from __future__ import annotations

import pytest

from bot import follow_up, reply
from bot.core import Bot
from bot.render import email, slack
from bot.render.text import render
from bot.reply import Status

CHAT = reply.Sender.terminal("ann", session="one")
OTHER_CHAT = reply.Sender.terminal("ann", session="two")
ASK = reply.Sender.terminal("ann")                              # `predbot ask`: no conversation
FIRST = "predict: age=45, income=60000, contract=month-to-month, support_calls=4"


def test_a_whatif_and_then_a_predict_build_on_the_last_prediction_and_say_which(remembering, registry):
    first = remembering.handle(FIRST, CHAT)
    whatif = remembering.handle("whatif: income=80000", CHAT)
    assert whatif.status is Status.OK and whatif.body.built_on == first.prediction_id
    assert whatif.body.before.inputs == "age=45, income=60000, contract=month-to-month, support_calls=4"
    assert [(c.feature, c.before, c.after) for c in whatif.body.changes] == [("income", "60k", "80k")]
    assert f"built on {first.prediction_id}, the last prediction here" in render(whatif)

    again = remembering.handle("predict: age=50", CHAT)                 # builds on the what-if's "after" row
    assert again.status is Status.OK and again.body.built_on == whatif.prediction_id
    assert again.body.rows[0].inputs == "age=50, income=80000, contract=month-to-month, support_calls=4"
    whole = Bot(registry).handle("predict: age=50, income=80000, contract=month-to-month, support_calls=4", CHAT)
    assert again.body.rows[0].probabilities == whole.body.rows[0].probabilities
    assert f"built on {whatif.prediction_id}" in render(again)


def test_the_fields_given_win_under_any_spelling_of_their_name(remembering):
    first = remembering.handle("predict: age=45, income=60000, fee=$80", CHAT)
    again = remembering.handle("predict: Monthly Fee=$20", CHAT)
    assert again.body.built_on == first.prediction_id
    assert again.body.rows[0].inputs == "age=45, income=60000, monthly_fee=20"


def test_the_built_on_line_is_in_every_channel_s_rendering(remembering):
    first = remembering.handle(FIRST, CHAT)
    whatif = remembering.handle("whatif: support_calls=0", CHAT)
    shown = f"built on {first.prediction_id}"
    assert shown in str(slack.render(whatif)) and shown in email.html([email.Answer("", whatif)])
    assert shown in render(whatif)


def test_another_conversation_or_an_ask_does_not_see_it(remembering):
    remembering.handle(FIRST, CHAT)
    remembering.handle(FIRST, ASK)
    for sender in (OTHER_CHAT, ASK):
        refused = remembering.handle("whatif: income=80000", sender)
        assert (refused.status, refused.body.message) == (Status.REFUSED, follow_up.NOTHING_YET)
        alone = remembering.handle("predict: age=50", sender)
        assert (alone.body.built_on, alone.body.rows[0].inputs) == ("", "age=50")


def test_without_a_store_a_whatif_without_a_row_is_refused_and_predict_is_as_before(registry):
    bot = Bot(registry)
    bot.handle(FIRST, CHAT)
    refused = bot.handle("whatif: income=80000", CHAT)
    assert (refused.status, refused.body.label) == (Status.REFUSED, "nothing_to_build_on")
    assert render(refused) == ("Nothing to build on here yet: give the whole row, "
                               "`whatif: age=45, income=60000 -> income=80000`")
    alone = bot.handle("predict: age=50", CHAT)
    assert (alone.body.built_on, alone.body.rows[0].inputs) == ("", "age=50")


def test_a_follow_up_keeps_to_the_last_prediction_s_model(remembering):
    first = remembering.handle("predict iris: 5.1, 3.5, 1.4, 0.2", CHAT)
    whatif = remembering.handle("whatif: petal_length=5", CHAT)        # no model named: iris's, not the default
    assert (whatif.status, whatif.model, whatif.body.built_on) == (Status.OK, "iris", first.prediction_id)
    other = remembering.handle("whatif churn: income=80000", CHAT)
    assert other.status is Status.REFUSED and f"{whatif.prediction_id}, is of iris" in other.body.message
    churn = remembering.handle("predict: age=50", CHAT)                 # churn's first prediction here
    assert (churn.model, churn.body.built_on) == ("churn", "")


def test_a_chain_of_follow_ups_keeps_every_value_exact(remembering):
    remembering.handle("predict: age=45, income=61234.5, fee=$80.25", CHAT)
    remembering.handle("whatif: age=46", CHAT)
    again = remembering.handle("predict: age=47", CHAT)
    assert again.body.rows[0].inputs == "age=47, income=61234.5, monthly_fee=80.25"
