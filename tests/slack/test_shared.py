"""What Slack replicas decide together in the store: repeats dropped across replicas, the per-user rate limit,
answers owed by a replica that stopped, and a store that fails costing no answer."""

from __future__ import annotations

import json
import logging

from doubles.loop import wait_until
from sqlalchemy import create_engine, select

from bot.store.shared import Shared
from bot.store.tables import pending


def shown(call) -> str:
    return json.dumps({"text": call.body.get("text"), "blocks": call.body.get("blocks")}, ensure_ascii=False)


def owed(shared: Shared) -> list[str]:
    with shared.engine.connect() as connection:
        return list(connection.execute(select(pending.c.key)).scalars())


def test_a_retry_that_reaches_another_replica_is_not_answered_again(start_slack, shared):
    first, second = start_slack(together=shared), start_slack(together=shared)
    event = first.mention("models", channel="C7")
    assert first.event(event, event_id="EvBOTH1") == 200
    assert second.event(event, event_id="EvBOTH1", retry=1) == 200
    marker = second.mention("help", channel="C7")        # after the retry, on the replica that dropped it
    second.event(marker)
    second.fake.wait_for("chat.postMessage", thread_ts=marker["ts"])
    first.fake.wait_for("chat.postMessage", thread_ts=event["ts"])
    first.settle()
    answered = [c for fake in (first.fake, second.fake) for c in fake.calls_to("chat.postMessage")
                if c.body.get("thread_ts") == event["ts"]]
    assert len(answered) == 1 and answered[0] in first.fake.calls


def test_a_person_over_the_rate_limit_is_told_privately_when_to_ask_again(start_slack):
    app = start_slack(rate=(2, 60.0))
    answered = [app.response(app.command("models", user="URATE")) for _ in range(2)]
    assert all("iris" in shown(call) for call in answered)
    refused = shown(app.response(app.command("models", user="URATE")))
    assert "You have asked me 2 times in the last 60 seconds" in refused and "ask again in " in refused
    assert "iris" in shown(app.response(app.command("models", user="UOTHER"))), "the limit is per person"


def test_the_rate_limit_is_one_count_across_replicas(start_slack, shared):
    first, second = start_slack(together=shared, rate=(1, 60.0)), start_slack(together=shared, rate=(1, 60.0))
    assert "iris" in shown(first.response(first.command("models", user="UTWO")))
    assert "You have asked me 1 times" in shown(second.response(second.command("models", user="UTWO")))


def test_an_answer_owed_by_a_replica_that_stopped_is_finished_here_once(start_slack, shared):
    app = start_slack(together=shared, lease=0.3)
    event = app.mention("predict: age=45, income=60000", channel="C8")
    shared.hold("event:EvOWED1", app.fake.event(event, "EvOWED1"), "a-replica-that-died", lease=0.0)
    post = app.fake.wait_for("chat.postMessage", thread_ts=event["ts"])
    assert "for age=45, income=60000" in shown(post)
    app.settle()
    assert "event:EvOWED1" not in owed(shared)
    assert len([c for c in app.fake.calls_to("chat.postMessage") if c.body.get("thread_ts") == event["ts"]]) == 1


def test_an_answer_taken_over_three_times_already_is_given_up_with_a_log_line(start_slack, shared, caplog):
    event = {"type": "app_mention", "text": "<@UBOT> models", "user": "U1", "channel": "C9", "ts": "1719999999.000001"}
    shared.hold("event:EvCURSED", {"type": "event_callback", "event_id": "EvCURSED", "event": event}, "dead", 0.0)
    for attempt in range(3):
        assert [held.attempts for held in shared.take_expired(f"dead-{attempt}", lease=0.0)] == [attempt + 1]
    with caplog.at_level(logging.ERROR, logger="bot.slack.pending"):
        app = start_slack(together=shared, lease=0.3)
        wait_until(lambda: "event:EvCURSED" not in owed(shared), timeout=20)
    assert "giving up on Slack event:EvCURSED: taken over 3 times" in caplog.text
    assert not [c for c in app.fake.calls_to("chat.postMessage") if c.body.get("channel") == "C9"]


def test_a_store_that_cannot_be_reached_costs_no_answer(start_slack, caplog):
    unreachable = Shared(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                                       connect_args={"connect_timeout": 2}))
    with caplog.at_level(logging.WARNING, logger="bot.slack"):
        app = start_slack(together=unreachable, rate=(5, 60.0))
        event = app.mention("models", channel="C10")
        app.event(event)
        assert "iris" in shown(app.fake.wait_for("chat.postMessage", thread_ts=event["ts"]))
        app.settle()
    assert "without checking it was not answered before: the store failed (OperationalError)" in caplog.text
    assert "without counting it against the rate limit" in caplog.text


def test_a_verified_payload_no_listener_takes_is_acked_and_not_left_owed(start_slack, shared):
    app = start_slack(together=shared)
    reaction = {"type": "reaction_added", "user": "U1", "reaction": "thumbsup", "item": {"type": "message"}}
    assert app.event(reaction, event_id="EvNOBODY") == 200
    wait_until(lambda: not owed(shared), timeout=20)
    assert not shared.first(["event:EvNOBODY"], 60), "it was seen, and would be dropped if it came again"
