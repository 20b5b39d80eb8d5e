"""Requests Slack never sent, against the real HTTP endpoint: refused, and nothing goes out.

Every forged request gets 401, every malformed one under a valid signature
400 or 415, and a replayed one its 200 but no second answer. None may cause
an outbound call: nothing reaches the fake Slack (Web API or response_url),
and nothing reaches the second listener that their response_urls point at.
None leaves a traceback in the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import urlencode

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from barrage import FORM, forgeries, post_all, tally
from doubles.slack import FakeSlack, signed
from bot.slack.verify import Verifier

NAMES = [forgery.name for forgery in forgeries("any secret", lambda: "http://127.0.0.1:9/respond/1")]


@pytest.fixture(scope="module")
def elsewhere(loop):
    """Where forged response_urls point: any request it gets is the bot calling a URL a stranger chose."""
    listener = FakeSlack()
    loop.run(listener.start())
    yield listener
    loop.run(listener.stop())


@pytest.fixture(scope="module")
def warm(slack):
    """The shared app after one real command: Bolt checks its token (auth.test) on its first request, not later."""
    slack.response(slack.command("help"))
    return slack


def send(app, requests) -> list[int]:
    return [ack.status for ack in asyncio.run(post_all(app.url, requests, concurrency=10))]


def no_tracebacks(caplog) -> bool:
    return not [r for r in caplog.records if r.exc_info] and "Traceback" not in caplog.text


@pytest.mark.parametrize("name", NAMES)
def test_a_request_slack_never_sent_is_refused_and_nothing_goes_out(warm, elsewhere, caplog, name):
    [forgery] = [f for f in forgeries(warm.secret, elsewhere.response_url) if f.name == name]
    before = len(warm.fake.calls)
    with caplog.at_level(logging.DEBUG):
        assert send(warm, [lambda: (forgery.body, forgery.headers)]) == [forgery.status]
        warm.settle()
    assert warm.fake.calls[before:] == [] and elsewhere.calls == []
    assert no_tracebacks(caplog)
    assert "refused a request to /slack/events from 127.0.0.1: " in caplog.text


def test_many_forgeries_at_once_cause_no_outbound_call(warm, elsewhere, caplog):
    batch = [f for round in range(3) for f in forgeries(warm.secret, elsewhere.response_url)]
    before = len(warm.fake.calls)
    with caplog.at_level(logging.DEBUG):
        statuses = send(warm, [lambda f=f: (f.body, f.headers) for f in batch])
        warm.settle()
    assert statuses == [f.status for f in batch]
    assert warm.fake.calls[before:] == [] and elsewhere.calls == []
    assert no_tracebacks(caplog)


@pytest.mark.parametrize("kind", ["slash command", "button click"])
def test_a_replayed_request_is_acknowledged_and_answered_once(warm, caplog, kind):
    payload = warm.fake.command("models") if kind == "slash command" else warm.fake.share_click("models")
    body = (urlencode(payload) if kind == "slash command" else urlencode({"payload": json.dumps(payload)})).encode()
    headers = {"Content-Type": FORM, **signed(warm.secret, body)}
    assert send(warm, [lambda: (body, headers)]) == [200]
    warm.response(payload["response_url"])
    with caplog.at_level(logging.INFO):
        assert send(warm, [lambda: (body, headers)] * 3) == [200] * 3
        warm.settle()
    counts, _ = tally(warm.fake.calls, [payload["response_url"]])
    assert counts["answer"] == 1 + (kind == "button click")      # a click also deletes the private answer
    assert "already answered this signed request; dropping the repeat" in caplog.text
    assert headers["X-Slack-Signature"] not in caplog.text and no_tracebacks(caplog)


def test_there_is_no_verifying_without_a_secret():
    with pytest.raises(ValueError):
        Verifier("")


@pytest.mark.parametrize("timestamp", ["²²²", "١٧٠٠٠٠٠٠٠٠", " 1700000000", "1700000000.5", "0x10"])
def test_only_ascii_digits_make_a_timestamp(timestamp):
    # int() reads some of these (superscripts, other scripts' digits, spaces); Slack sends none of them
    verifier = Verifier("shh", clock=lambda: 1_700_000_000)
    assert verifier.unsigned(b"", timestamp, signed("shh", b"", timestamp)["X-Slack-Signature"]).status == 401
    assert verifier.unsigned(b"", "1700000000", signed("shh", b"", 1_700_000_000)["X-Slack-Signature"]) is None


def test_behind_the_endpoint_bolt_still_never_acts_on_an_unverified_body(warm, elsewhere, caplog):
    # The endpoint refuses these before Bolt; this is the second wall, for any adapter that forgets to.
    forgery = next(f for f in forgeries(warm.secret, elsewhere.response_url) if f.name == "timestamp abc")
    before = len(warm.fake.calls)
    with caplog.at_level(logging.ERROR, logger="bot.slack"):
        response = warm.loop.run(warm.app.bolt.async_dispatch(
            AsyncBoltRequest(body=forgery.body.decode(), headers=dict(forgery.headers))))
        warm.settle()
    assert response.status == 500 and "invalid literal for int()" in caplog.text     # slack_sdk's int("abc")
    assert warm.fake.calls[before:] == [] and elsewhere.calls == []
