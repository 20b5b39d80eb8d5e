"""`predbot serve`'s Slack part: which mode, and one clear line when the configuration is wrong."""

from __future__ import annotations

import argparse
import asyncio
import threading
import time

import pytest

from bot.answering import Answerer
from bot.core import Bot
from bot.slack import service
from bot.slack.app import DRAIN_SECONDS
from barrage import post_all, signed_form
from doubles.slack import FakeSlack
from bot.slack.settings import Settings

ARGS = argparse.Namespace(host="127.0.0.1", port=0)


@pytest.fixture(scope="module")
def fake(loop):
    slack = FakeSlack()
    loop.run(slack.start())
    yield slack
    loop.run(slack.stop())


@pytest.fixture(scope="module")
def answerer(registry):
    answers = Answerer(Bot(registry))
    yield answers
    answers.close()


def start(loop, answerer, env):
    return loop.run(service.start(answerer, ARGS, env))


def refused(loop, answerer, env) -> str:
    """The one line `serve` stops with. SystemExit is caught inside the loop, which it would otherwise end."""

    async def attempt():
        try:
            await service.start(answerer, ARGS, env)
        except SystemExit as stopped:
            return str(stopped)
        return "started"

    return loop.run(attempt())


def test_no_bot_token_means_no_slack(loop, answerer):
    assert start(loop, answerer, {}) is None


def test_http_mode_describes_where_it_listens(loop, answerer, fake):
    running = start(loop, answerer, fake.env(SLACK_SIGNING_SECRET="s"))
    try:
        assert running.describe() == f"Slack as @predbot in Fake in HTTP mode at {running.url}"
        assert running.url.startswith("http://127.0.0.1:") and running.url.endswith("/slack/events")
    finally:
        loop.run(running.stop())


def test_http_mode_without_a_signing_secret_says_what_to_set(loop, answerer, fake):
    assert refused(loop, answerer, fake.env()) == (
        "predbot: Slack's HTTP mode needs SLACK_SIGNING_SECRET (the app's Basic Information page), "
        "or set SLACK_APP_TOKEN to use Socket Mode instead.")


@pytest.mark.parametrize("variable", ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"])
def test_a_wrong_token_is_named_but_never_shown(loop, answerer, fake, variable):
    env = {**fake.env(SLACK_SIGNING_SECRET="s", SLACK_APP_TOKEN=fake.app_token), variable: "xoxb-wrong-123"}
    assert refused(loop, answerer, env) == (
        f"predbot: Slack refused {variable} (invalid_auth); copy it again from the app's settings.")


def test_an_unreachable_slack_is_one_line(loop, answerer):
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:1/api"}
    assert refused(loop, answerer, env).startswith("predbot: cannot reach Slack at http://127.0.0.1:1/api/ (")


def test_arguments_and_settings():
    parser = argparse.ArgumentParser()
    service.add_arguments(parser.add_argument_group("slack"))
    assert vars(parser.parse_args([])) == {"host": "127.0.0.1", "port": 3000}
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-secret", "SLACK_SIGNING_SECRET": "shh",
                                  "PREDBOT_SLACK_ALLOWED_USERS": " U1, U2 ,", "SLACK_APP_TOKEN": "xapp-secret"})
    assert settings.allowed_users == {"U1", "U2"} and settings.socket_mode
    assert settings.api_url == "https://slack.com/api/"
    assert "secret" not in repr(settings) and "shh" not in repr(settings)


class StuckBot(Bot):
    """Starts answering, then waits until released."""

    def __init__(self, registry) -> None:
        super().__init__(registry)
        self.started, self.release = threading.Event(), threading.Event()

    def handle(self, *args, **kwargs):
        self.started.set()
        assert self.release.wait(60)
        return super().handle(*args, **kwargs)


def test_stopping_waits_for_an_unfinished_answer_only_a_few_seconds(loop, registry, fake):
    bot = StuckBot(registry)
    answerer = Answerer(bot)
    running = loop.run(service.launch(answerer, Settings.from_env(fake.env(SLACK_SIGNING_SECRET="s")), port=0))
    try:
        [ack] = asyncio.run(post_all(running.url, [signed_form("s", fake.command("models"))], concurrency=1))
        assert ack.status == 200 and bot.started.wait(20)
        began = time.monotonic()
        loop.run(running.stop())
        took = time.monotonic() - began
    finally:
        bot.release.set()
        assert loop.run(running.app.drain(timeout=20)) == 0     # the answer let go still ends, before the loop does
        answerer.close()
    # it waited for the answer, then let it go: well inside the 4 s `serve` gives each channel to stop
    assert DRAIN_SECONDS <= took < DRAIN_SECONDS + 1
