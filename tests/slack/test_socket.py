"""Socket Mode: the same listeners over a websocket, against a local websocket fake of Slack."""

from __future__ import annotations

import json

from bot.core import Bot


def test_socket_mode_acks_envelopes_and_answers_through_the_web_api(start_slack):
    app = start_slack(env={"SLACK_APP_TOKEN": "xapp-fake"})
    assert "Socket Mode" in app.service.describe()
    fake = app.fake
    fake.wait_for("socket.connect")
    [opened] = fake.calls_to("apps.connections.open")
    assert opened.headers["Authorization"] == "Bearer xapp-fake"

    command = fake.command("predict iris: 5.1, 3.5, 1.4, 0.2")
    app.loop.run(fake.deliver({"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
                               "payload": command}))
    fake.wait_for("socket.ack", envelope_id="env-1")
    answer = app.response(command["response_url"])
    assert answer.body["response_type"] == "ephemeral" and "setosa" in json.dumps(answer.body["blocks"])

    event = app.mention("models", channel="C9")
    envelope = {"envelope_id": "env-2", "type": "events_api", "accepts_response_payload": False,
                "retry_attempt": 0, "retry_reason": "", "payload": fake.event(event, "EvSOCKET1")}
    app.loop.run(fake.deliver(envelope))
    fake.wait_for("socket.ack", envelope_id="env-2")
    post = fake.wait_for("chat.postMessage", thread_ts=event["ts"])
    assert post.body["channel"] == "C9" and "iris" in json.dumps(post.body["blocks"])

    app.loop.run(fake.deliver({**envelope, "envelope_id": "env-3", "retry_attempt": 1, "retry_reason": "timeout"}))
    fake.wait_for("socket.ack", envelope_id="env-3")
    marker = app.mention("help", channel="C9")
    app.loop.run(fake.deliver({**envelope, "envelope_id": "env-4", "payload": fake.event(marker)}))
    fake.wait_for("chat.postMessage", thread_ts=marker["ts"])
    assert len([c for c in fake.calls_to("chat.postMessage") if c.body.get("thread_ts") == event["ts"]]) == 1


class BrokenBot(Bot):
    def handle(self, *args, **kwargs):
        raise RuntimeError("the scorer fell over")


def test_socket_mode_payloads_count_as_verified_so_a_failure_is_apologised_for(start_slack, registry):
    app = start_slack(bot=BrokenBot(registry), env={"SLACK_APP_TOKEN": "xapp-fake"})
    app.fake.wait_for("socket.connect")
    command = app.fake.command("models")
    app.loop.run(app.fake.deliver({"envelope_id": "env-9", "type": "slash_commands",
                                   "accepts_response_payload": True, "payload": command}))
    assert "Sorry, something went wrong on our side" in json.dumps(app.response(command["response_url"]).body)
