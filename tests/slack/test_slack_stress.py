"""1,000 signed slash commands at 50 concurrent, with thousands of forged requests among them, at the real endpoint.

Every command is acked 200 and answered exactly once: with its answer, or
with the Answerer's clear "busy" refusal when more wait than it takes on,
never with an apology. The forged and malformed requests (tests/slack/barrage.py,
the corpus tests/slack/test_forged.py sends in seconds) arrive at the same
time, each gets its 4xx, and none causes an outbound call: nothing reaches
the second listener their response_urls name, nor Slack for their channel.
"""

from __future__ import annotations

import asyncio
import random
from urllib.parse import urlsplit

import figures
import pytest

from bot.answering import Answerer
from bot.core import Bot
from barrage import FORGED_CHANNEL, forgeries, post_all, signed_form, tally
from doubles.loop import LoopThread
from doubles.slack import FakeSlack
from bot.slack.service import launch
from bot.slack.settings import Settings

SECRET = "stress-signing-secret"
COMMANDS, CONCURRENT = 1000, 50
FORGERY_ROUNDS = 100         # of every forgery in the corpus: a few thousand requests


@pytest.fixture
def slack(registry, shared):
    """The real HTTP endpoint over a fake Slack, and a second listener that no request may reach.

    The fakes run on a loop of their own, as Slack would, so the app's loop does only the app's work.
    """
    loop, outside = LoopThread(), LoopThread()
    fake, elsewhere = FakeSlack(), FakeSlack()
    outside.run(fake.start())
    outside.run(elsewhere.start())
    answerer = Answerer(Bot(registry))
    settings = Settings(fake.bot_token, signing_secret=SECRET, api_url=fake.api_url, port=0, rate=(0, 1.0))
    service = loop.run(launch(answerer, settings, shared))
    yield loop, service, fake, elsewhere
    loop.run(service.stop())
    outside.run(elsewhere.stop())
    outside.run(fake.stop())
    answerer.close()
    loop.close()
    outside.close()


@pytest.mark.stress
@pytest.mark.timeout(1800)
def test_every_command_is_answered_once_and_no_forgery_causes_a_call(slack):
    loop, service, fake, elsewhere = slack
    rss_before = figures.rss_mb()
    payloads = [fake.command(f"age={18 + n % 60}, income={30 + n % 70}k") for n in range(COMMANDS)]
    forged = [f for n in range(FORGERY_ROUNDS) for f in forgeries(SECRET, elsewhere.response_url, random.Random(n))]

    async def both():
        return await asyncio.gather(
            post_all(service.url, [signed_form(SECRET, p) for p in payloads], CONCURRENT),
            post_all(service.url, [lambda f=f: (f.body, f.headers) for f in forged], CONCURRENT))

    acks, forged_acks = asyncio.run(both())
    urls = [p["response_url"] for p in payloads]
    fake.wait_until(lambda calls: tally(calls, urls)[0]["unanswered"] == 0 or None, timeout=900)
    assert loop.run(service.app.drain(timeout=60)) == 0
    counts, first = tally(fake.calls, urls)
    answered = {urlsplit(url).path for url in urls}
    stray = [c for c in fake.calls if c.method not in ("auth.test", "response")
             or (c.method == "response" and c.path not in answered) or c.body.get("channel") == FORGED_CHANNEL]
    outbound = len(stray) + len(elsewhere.calls)
    figures.report("slack", inputs=COMMANDS + len(forged), commands=COMMANDS, concurrent=CONCURRENT,
                   forged=len(forged), answered=counts["answer"], busy=counts["busy"],
                   apologies=counts["apology"], duplicated=counts["repeated"], unanswered=counts["unanswered"],
                   forged_outbound=outbound,
                   ack_p99_ms=figures.p99_ms([a.seconds for a in acks]),
                   answer_p99_ms=figures.p99_ms([call.at - ack.began for call, ack in zip(first, acks)]),
                   forged_ack_p99_ms=figures.p99_ms([a.seconds for a in forged_acks]),
                   rss_before_mb=rss_before, rss_after_mb=figures.rss_mb(), peak_rss_mb=figures.peak_rss_mb())
    assert [a.status for a in acks] == [200] * COMMANDS
    assert counts["answer"] + counts["busy"] == COMMANDS
    assert counts["apology"] == counts["repeated"] == counts["unanswered"] == 0
    assert [a.status for a in forged_acks] == [f.status for f in forged]
    assert outbound == 0, stray[:5]
