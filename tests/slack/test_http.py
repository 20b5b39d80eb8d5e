"""The Slack app in HTTP mode: signed requests over real HTTP, answers checked at the fake Slack."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from urllib.parse import urlencode

import pytest

from bot.answering import Budget
from bot.core import Bot
from bot.store import open_store
from barrage import post_all, signed_form, tally
from doubles.slack import block_problem


def shown(call) -> str:
    """Everything a message shows, as Slack received it."""
    return json.dumps({"text": call.body.get("text"), "blocks": call.body.get("blocks")}, ensure_ascii=False)


def test_healthz_says_ok(slack):
    with urllib.request.urlopen(slack.url.replace("/slack/events", "/healthz"), timeout=5) as response:
        assert json.load(response) == {"ok": True}


def test_the_events_url_answers_slacks_verification_challenge(slack):
    status, body = slack.post(json.dumps({"type": "url_verification", "challenge": "c4ll3nge"}), "application/json")
    assert status == 200 and json.loads(body) == {"challenge": "c4ll3nge"}


def test_predict_acks_at_once_then_answers_privately_with_a_share_button(slack):
    url = slack.command("age=45, income=60000")
    response = slack.response(url)
    assert response.body["response_type"] == "ephemeral"
    assert response.body["replace_original"] is False
    headline = response.body["blocks"][0]["text"]["text"]
    assert "confident" in headline and ("churns" in headline or "stays" in headline)
    assert "for age=45, income=60000" in shown(response)
    [button] = response.body["blocks"][-1]["elements"]
    assert button["action_id"] == "share" and button["value"] == "age=45, income=60000"
    assert response.body["text"]


def test_the_ack_goes_back_before_any_scoring_is_done(start_slack, gated):
    app = start_slack(bot=gated)
    payload = app.fake.command("models")
    status, body = app.post(urlencode(payload))          # returns while the bot is still held at the gate
    assert (status, body) == (200, b"")
    assert not app.fake.calls_to("response")
    gated.gate.set()
    assert "iris" in shown(app.response(payload["response_url"]))


def test_bolts_own_steering_headers_are_not_taken_from_outside(start_slack, gated):
    # X-Slack-Bolt-Lazy-Only would make Bolt skip the ack and answer before replying; no signature covers it
    app = start_slack(bot=gated)
    payload = app.fake.command("models")
    steer = {"X-Slack-Bolt-Lazy-Only": "1", "X-Slack-Bolt-Lazy-Function-Name": "command"}
    assert app.post(urlencode(payload), headers=steer) == (200, b"")     # acked while the answer is held
    gated.gate.set()
    assert "iris" in shown(app.response(payload["response_url"]))


def test_answers_stuck_in_scoring_do_not_hold_back_other_acks(start_slack, gated):
    app = start_slack(bot=gated, budget=Budget(threads=2))
    for _ in range(2):                                   # every scoring thread stuck at the gate
        app.command("models")
        assert gated.held.acquire(timeout=20)
    urls = [app.command("models") for _ in range(5)] + [app.click_share("models")]     # each asserts its 200
    assert app.event(app.mention("models")) == 200 and app.event(app.dm("models")) == 200
    assert not app.fake.calls_to("response") and not app.fake.calls_to("chat.postMessage")
    gated.gate.set()
    for url in urls:
        app.response(url)


def test_a_stuck_answer_is_refused_as_too_slow_in_slack(start_slack, gated):
    app = start_slack(bot=gated, budget=Budget(seconds=0.2, threads=1))
    url = app.command("models")
    refusal = app.response(url)
    assert refusal.body["response_type"] == "ephemeral"
    assert "took longer than 0.2 seconds" in shown(refusal) and "Sorry" not in shown(refusal)
    event = app.mention("models")
    app.event(event)
    assert "took longer than 0.2 seconds" in shown(app.fake.wait_for("chat.postMessage", thread_ts=event["ts"]))


def test_many_commands_at_once_are_each_acked_and_answered_once(slack):
    # the short run of tests/slack/test_slack_stress.py
    payloads = [slack.fake.command(f"predict: age={20 + n}, income=60000") for n in range(60)]
    acks = asyncio.run(post_all(slack.url, [signed_form(slack.secret, p) for p in payloads], concurrency=20))
    assert [ack.status for ack in acks] == [200] * 60
    urls = [p["response_url"] for p in payloads]
    slack.fake.wait_until(lambda calls: tally(calls, urls)[0]["unanswered"] == 0 or None)
    slack.settle()
    counts, _ = tally(slack.fake.calls, urls)
    assert counts == {"answer": 60, "unanswered": 0, "repeated": 0}


def test_bad_and_stale_signatures_are_refused(slack):
    payload = slack.fake.command("age=45")
    body = urlencode(payload)
    assert slack.post(body, secret="not-the-secret")[0] == 401
    assert slack.post(body, timestamp=int(time.time()) - 600)[0] == 401
    assert slack.post(body)[0] == 200
    slack.response(payload["response_url"])
    assert len([c for c in slack.fake.calls_to("response") if payload["response_url"].endswith(c.path)]) == 1


def test_predict_public_answers_the_channel_without_a_share_button(slack):
    url = slack.command("public predict iris: 5.1, 3.5, 1.4, 0.2")
    response = slack.response(url)
    assert response.body["response_type"] == "in_channel"
    assert "setosa" in response.body["blocks"][0]["text"]["text"]
    assert all(e["action_id"] != "share" for b in response.body["blocks"] if b["type"] == "actions"
               for e in b["elements"])


def test_share_button_posts_the_answer_in_the_channel_and_drops_the_private_copy(slack):
    url = slack.click_share("predict iris: 5.1, 3.5, 1.4, 0.2", user="U7")
    public = slack.response(url, response_type="in_channel")
    assert "setosa" in shown(public) and "Shared by <@U7>" in shown(public)
    slack.response(url, delete_original=True)


def test_a_mention_is_answered_in_a_thread_under_it(slack):
    event = slack.mention("predict: age=45, income=60000")
    assert slack.event(event) == 200
    post = slack.fake.wait_for("chat.postMessage", thread_ts=event["ts"])
    assert post.body["channel"] == "C1"
    assert "confident" in post.body["blocks"][0]["text"]["text"]
    assert "for age=45, income=60000" in shown(post)


def test_a_mention_inside_a_thread_is_answered_in_that_thread(slack):
    event = slack.mention("models", thread_ts="1700000000.000001")
    slack.event(event)
    post = slack.fake.wait_for("chat.postMessage", thread_ts="1700000000.000001")
    assert "iris" in shown(post) and "diabetes" in shown(post)


def test_a_dm_is_answered_in_place(slack):
    event = slack.dm("predict iris: 5.1, 3.5, 1.4, 0.2", channel="D42")
    slack.event(event)
    post = slack.fake.wait_for("chat.postMessage", channel="D42")
    assert post.body.get("thread_ts") is None
    assert "setosa" in shown(post)


def test_bot_messages_and_edits_are_not_answered(slack):
    slack.event(slack.dm("predict: age=1", channel="D43", bot_id="B999"))
    slack.event(slack.dm("predict: age=2", channel="D43", subtype="message_changed"))
    slack.event(slack.dm("models", channel="D43"))
    slack.fake.wait_for("chat.postMessage", channel="D43")
    assert len([c for c in slack.fake.calls_to("chat.postMessage") if c.body["channel"] == "D43"]) == 1


def test_a_retried_delivery_is_acknowledged_and_answered_once(slack):
    event = slack.mention("models", channel="C2")
    assert slack.event(event, event_id="EvRETRY1") == 200
    slack.fake.wait_for("chat.postMessage", thread_ts=event["ts"])
    assert slack.event(event, event_id="EvRETRY1", retry=1) == 200
    as_dm = {**event, "type": "message", "channel_type": "im"}         # the same message as another event
    assert slack.event(as_dm, event_id="EvOTHER1") == 200
    marker = slack.mention("help", channel="C2")
    slack.event(marker)
    slack.fake.wait_for("chat.postMessage", thread_ts=marker["ts"])
    assert len([c for c in slack.fake.calls_to("chat.postMessage") if c.body.get("thread_ts") == event["ts"]]) == 1


def test_what_people_type_never_pings_the_channel(slack):
    # Slack escapes a literal "<" typed by a person; the bot reads it as text and escapes it again.
    event = slack.mention("predict: age=45, plan=&lt;!channel&gt; &lt;@U123&gt; &lt;http://x|y&gt;")
    slack.event(event)
    post = slack.fake.wait_for("chat.postMessage", thread_ts=event["ts"])
    assert "&lt;!channel&gt;" in shown(post)
    for ping in ("<!channel>", "<@U123>", "<http://x|y>"):
        assert ping not in shown(post)
    url = slack.command("predict: plan=&lt;!here&gt;")
    response = slack.response(url)
    assert "<!here>" not in shown(response) and "&lt;!here&gt;" in shown(response)


def test_a_parse_error_shows_the_caret_in_a_code_block(slack):
    url = slack.command("predict: age=45,, income")
    response = slack.response(url)
    assert "```" in shown(response) and "^" in shown(response)
    assert not any(b["type"] == "actions" for b in response.body["blocks"])


def test_a_long_answer_stays_inside_block_kit_limits(slack):
    rows = "; ".join(f"age={20 + n}, income={30 + n}k, plan=\"{'Premium Plus ' * 8}\"" for n in range(50))
    event = slack.mention(f"predict: {rows}")
    slack.event(event)
    post = slack.fake.wait_for("chat.postMessage", thread_ts=event["ts"])
    assert block_problem(post.body["blocks"]) is None
    assert len(post.body["blocks"]) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in post.body["blocks"])


def test_people_and_channels_off_the_allow_lists_are_refused_privately(start_slack):
    app = start_slack(env={"PREDBOT_SLACK_ALLOWED_USERS": "U1,U2", "PREDBOT_SLACK_ALLOWED_CHANNELS": "C1"})
    url = app.command("age=45", user_id="U9")
    refusal = app.response(url)
    assert refusal.body["response_type"] == "ephemeral"
    assert "(U9) is not on it" in shown(refusal)
    event = app.mention("models", channel="C5", user="U2")
    app.event(event)
    private = app.fake.wait_for("chat.postEphemeral", user="U2")
    assert private.body["channel"] == "C5" and "does not answer in this channel (C5)" in shown(private)
    app.event(app.dm("models", user="U2", channel="D7"))         # DMs follow the user list only
    assert "iris" in shown(app.fake.wait_for("chat.postMessage", channel="D7"))
    assert len(app.fake.calls_to("chat.postMessage")) == 1


class BrokenBot(Bot):
    def handle(self, *args, **kwargs):
        raise RuntimeError("the scorer fell over")


def test_a_listener_failure_is_logged_and_answered_with_an_apology(start_slack, registry, caplog):
    app = start_slack(bot=BrokenBot(registry))
    event = app.mention("models")
    with caplog.at_level(logging.ERROR, logger="bot.slack"):
        app.event(event)
        post = app.fake.wait_for("chat.postMessage", thread_ts=event["ts"])
    assert "Sorry, something went wrong on our side" in shown(post)
    [record] = [r for r in caplog.records if r.name == "bot.slack.app"]
    assert record.exc_info and "the scorer fell over" in str(record.exc_info[1])
    url = app.command("models")
    assert "Sorry, something went wrong" in shown(app.response(url))


def test_when_slack_rejects_an_answer_the_person_still_hears_back(start_slack):
    app = start_slack()
    app.fake.fail_next("chat.postMessage", "msg_too_long")
    event = app.mention("models")
    app.event(event)
    apology = app.fake.wait_for("chat.postMessage", thread_ts=event["ts"], where=lambda c: c.answer["ok"])
    assert "Sorry, something went wrong on our side" in shown(apology)
    assert [c.answer["ok"] for c in app.fake.calls_to("chat.postMessage")] == [False, True]


def test_tokens_and_secrets_never_reach_the_log(start_slack, caplog):
    with caplog.at_level(logging.DEBUG):
        app = start_slack()
        event = app.mention("models")
        app.event(event)
        app.fake.wait_for("chat.postMessage", thread_ts=event["ts"])
    for secret in (app.fake.bot_token, "test-signing-secret"):
        assert secret not in caplog.text


def sent(slack, method: str, where) -> list:
    """The calls to `method` that `where` picks, once every answer under way has gone out."""
    slack.settle()
    return [c for c in slack.fake.calls_to(method) if where(c)]


def test_a_dm_of_two_commands_gets_two_answers_in_order(slack):
    slack.event(slack.dm("predict: age=45, income=60000\nand this one:\npredict iris: 5.1, 3.5, 1.4, 0.2",
                         channel="D44"))
    slack.fake.wait_until(lambda calls: len([c for c in calls if c.body.get("channel") == "D44"]) == 2 or None)
    first, second = sent(slack, "chat.postMessage", lambda c: c.body["channel"] == "D44")
    assert "for age=45, income=60000" in shown(first) and "confident" in shown(first)
    assert "setosa" in shown(second)


def test_a_slash_command_of_two_commands_gets_two_private_answers_each_shared_alone(slack):
    url = slack.command("predict: age=45, income=60000\npredict iris: 5.1, 3.5, 1.4, 0.2")
    slack.fake.wait_until(lambda calls: len([c for c in calls if url.endswith(c.path)]) == 2 or None)
    answers = sent(slack, "response", lambda c: url.endswith(c.path))
    assert [a.body["blocks"][-1]["elements"][0]["value"] for a in answers] == [
        "predict: age=45, income=60000", "predict iris: 5.1, 3.5, 1.4, 0.2"]


def test_a_slash_command_stays_within_the_five_messages_slack_takes_per_response_url(slack):
    url = slack.command("\n".join(["models"] * 7))
    slack.fake.wait_until(lambda calls: len([c for c in calls if url.endswith(c.path)]) == 5 or None)
    *answers, refusal = sent(slack, "response", lambda c: url.endswith(c.path))
    assert len(answers) == 4 and all("iris" in shown(a) for a in answers)
    assert "I answered the first 4 and not the other 3." in shown(refusal)


# --- ✓ and ✗ under a prediction, and predictions remembered in Slack ----------------------------------------

@pytest.fixture
def remembering(start_slack, registry, tmp_path):
    """An app whose bot records every prediction in a SQLite store, and that store."""
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    yield start_slack(bot=Bot(registry, store=store)), store
    store.close()


def click(app, button: dict, user: str = "U1", channel: str = "C1") -> str:
    """Click a button of an answer, as Slack posts a block_actions payload; return its response_url."""
    payload = app.fake.share_click(button["value"], user=user, channel=channel)
    payload["actions"][0].update(action_id=button["action_id"], block_id="feedback")
    status, _ = app.post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    return payload["response_url"]


def feedback_buttons(message) -> tuple[dict, dict]:
    [block] = [b for b in message.body["blocks"] if b.get("block_id") == "feedback"]
    right, wrong = block["elements"]
    return right, wrong


def test_the_check_mark_records_the_class_predicted_and_the_cross_asks_what_it_was(remembering):
    app, store = remembering
    answer = app.response(app.command("age=45, income=60000"))
    right, wrong = feedback_buttons(answer)
    assert (right["text"]["text"], wrong["text"]["text"]) == ("✓ Right", "✗ Wrong")
    _, prediction_id, said = right["value"].split()
    predicted = said.removeprefix("actual=")
    assert f"*{predicted} (" in answer.body["blocks"][0]["text"]["text"]
    noted = app.response(click(app, right))
    assert noted.body["response_type"] == "ephemeral" and noted.body["replace_original"] is False
    assert f"Noted: {prediction_id} was {predicted}; predicted {predicted}, so it was right." in shown(noted)
    assert all(b["type"] != "actions" for b in noted.body["blocks"])        # sharing would give it twice
    assert [(row, actual, who) for row, actual, who, _ in store.prediction(prediction_id).feedback] == [
        (0, predicted, "U1")]
    asked = app.response(click(app, wrong))
    assert (f"Say what it really was (stays, churns): `feedback {prediction_id} actual="
            f"{'stays' if predicted == 'churns' else 'churns'}`") in shown(asked)
    assert len(store.prediction(prediction_id).feedback) == 1


def test_the_buttons_answer_the_channel_the_prediction_was_made_in_and_no_one_elsewhere(remembering):
    app, store = remembering
    event = app.mention("predict: age=45, income=60000", channel="C5", user="U1")
    assert app.event(event) == 200
    post = app.fake.wait_for("chat.postMessage", channel="C5", thread_ts=event["ts"])
    right, _ = feedback_buttons(post)
    prediction_id = right["value"].split()[1]
    assert store.flush()
    kept = store.prediction(prediction_id).entry
    assert (kept.channel, kept.workspace, kept.conversation, kept.thread, kept.sender) == (
        "slack", "TFAKE", "C5", event["ts"], "U1")
    refused = app.response(click(app, right, user="U2", channel="C6"))
    assert "was asked by someone else, somewhere else" in shown(refused)
    assert store.prediction(prediction_id).feedback == ()
    assert "so it was right." in shown(app.response(click(app, right, user="U2", channel="C5")))
    assert [who for _, _, who, _ in store.prediction(prediction_id).feedback] == ["U2"]


def test_history_lists_what_was_asked_anywhere_in_a_dm_and_to_the_asker_alone_in_a_channel(remembering):
    app, _ = remembering
    answer = app.response(app.command("predict iris: 5.1, 3.5, 1.4, 0.2", user="U8"))       # a private answer
    prediction_id = feedback_buttons(answer)[0]["value"].split()[1]
    app.event(app.dm("history", user="U8", channel="D8"))
    listed = app.fake.wait_for("chat.postMessage", channel="D8")
    assert f"`{prediction_id}`" in shown(listed) and "setosa" in shown(listed)
    app.event(app.mention("history", channel="C8", user="U8"))
    privately = app.fake.wait_for("chat.postEphemeral", channel="C8", user="U8")
    assert f"`{prediction_id}`" in shown(privately)
    app.settle()
    assert not [call for call in app.fake.calls_to("chat.postMessage") if call.body.get("channel") == "C8"]


def test_a_whatif_in_a_mention_s_thread_builds_on_the_thread_s_last_prediction_and_no_other_thread_s(remembering):
    app, _ = remembering
    event = app.mention("predict: age=45, income=60000, support_calls=4", channel="C5")
    assert app.event(event) == 200
    prediction_id = feedback_buttons(app.fake.wait_for("chat.postMessage", channel="C5", thread_ts=event["ts"]))[0][
        "value"].split()[1]
    assert app.event(app.mention("whatif: income=80000", channel="C5", thread_ts=event["ts"])) == 200
    followed = app.fake.wait_for("chat.postMessage", channel="C5", thread_ts=event["ts"],
                                 where=lambda call: "What if" in shown(call))
    assert f"built on {prediction_id}, the last prediction here" in shown(followed)
    elsewhere = app.mention("whatif: income=80000", channel="C5")               # a thread of its own
    assert app.event(elsewhere) == 200
    refused = app.fake.wait_for("chat.postMessage", channel="C5", thread_ts=elsewhere["ts"])
    assert "Nothing to build on here yet" in shown(refused)
