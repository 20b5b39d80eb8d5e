"""`predbot serve`'s Slack part: its settings, which mode, and one clear line when the configuration is wrong."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from barrage import post_all, signed_form
from doubles.slack import FakeSlack

from bot.answering import Answerer
from bot.config import ConfigError
from bot.core import Bot
from bot.slack import service
from bot.slack.app import DRAIN_SECONDS


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


@pytest.fixture
def start(loop, answerer, configured, shared):
    """Start the Slack channel as `serve` does, on a free port, in environment `env`."""
    return lambda env: loop.run(service.start(answerer, configured(env), shared))


@pytest.fixture
def refused(start):
    """The one line `serve` stops with, in environment `env`."""
    def refusal(env: dict[str, str]) -> str:
        with pytest.raises(ConfigError) as stopped:
            start(env)
        return str(stopped.value)

    return refusal


def test_no_bot_token_means_no_slack(start, configured):
    assert configured({"SLACK_APP_TOKEN": "xapp-1", "SLACK_SIGNING_SECRET": "s"}) is None
    assert start({}) is None


def test_http_mode_describes_where_the_http_server_serves_it(start, loop, fake, served, answerer, shared):
    running = start(fake.env(SLACK_SIGNING_SECRET="s"))
    server = loop.run(served(running, answerer, shared))
    try:
        assert running.describe() == f"Slack as @predbot in Fake in HTTP mode at {server.url}/slack/events"
    finally:
        loop.run(server.stop())
        loop.run(running.stop())


def test_http_mode_without_a_signing_secret_says_what_to_set(refused, fake):
    assert refused(fake.env()) == (
        "Slack's HTTP mode needs SLACK_SIGNING_SECRET (the app's Basic Information page), "
        "or set SLACK_APP_TOKEN to use Socket Mode instead.")


@pytest.mark.parametrize("variable", ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"])
def test_a_wrong_token_is_named_but_never_shown(refused, fake, variable):
    env = {**fake.env(SLACK_SIGNING_SECRET="s", SLACK_APP_TOKEN=fake.app_token), variable: "xoxb-wrong-123"}
    assert refused(env) == (
        f"Slack refused {variable} (invalid_auth); copy it again from the app's settings.")


def test_an_unreachable_slack_is_one_line(refused):
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:1/api"}
    assert refused(env).startswith("cannot reach Slack at http://127.0.0.1:1/api/ (")


def test_settings_from_slacks_variables_and_our_flags(configured):
    settings = configured({"SLACK_BOT_TOKEN": "xoxb-secret", "SLACK_SIGNING_SECRET": "shh",
                           "PREDBOT_SLACK_ALLOWED_USERS": " U1, U2 ,", "SLACK_APP_TOKEN": "xapp-secret"})
    assert settings.allowed_users == {"U1", "U2"} and not settings.allowed_channels and settings.socket_mode
    assert settings.api_url == "https://slack.com/api/"
    assert "secret" not in repr(settings) and "shh" not in repr(settings)


def test_flags_win_over_variables(configured):
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "PREDBOT_SLACK_ALLOWED_USERS": "U1", "PREDBOT_SLACK_ALLOWED_CHANNELS": "C1",
           "SLACK_API_URL": "http://127.0.0.1:9/api"}
    settings = configured(env, "--slack-allow-users", "U7,U8", "--slack-allow-users", "U9",
                          "--slack-api-url", "http://127.0.0.1:10/api")
    assert settings.allowed_users == {"U7", "U8", "U9"} and settings.allowed_channels == {"C1"}
    assert settings.api_url == "http://127.0.0.1:10/api/"


class StuckBot(Bot):
    """Starts answering, then waits until released."""

    def __init__(self, registry) -> None:
        super().__init__(registry)
        self.started, self.release = threading.Event(), threading.Event()

    def handle(self, *args, **kwargs):
        self.started.set()
        assert self.release.wait(60)
        return super().handle(*args, **kwargs)


def test_stopping_waits_for_an_unfinished_answer_only_a_few_seconds(loop, registry, fake, configured, shared,
                                                                    served):
    bot = StuckBot(registry)
    answerer = Answerer(bot)
    running = loop.run(service.launch(answerer, configured(fake.env(SLACK_SIGNING_SECRET="s")), shared))
    server = loop.run(served(running, answerer, shared))
    try:
        [ack] = asyncio.run(post_all(running.url, [signed_form("s", fake.command("models"))], concurrency=1))
        assert ack.status == 200 and bot.started.wait(20)
        loop.run(server.stop())
        began = time.monotonic()
        loop.run(running.stop())
        took = time.monotonic() - began
    finally:
        bot.release.set()
        assert loop.run(running.app.drain(timeout=20)) == 0     # the answer let go still ends, before the loop does
        answerer.close()
    # it waited for the answer, then let it go: well inside the 4 s `serve` gives each channel to stop
    assert DRAIN_SECONDS <= took < DRAIN_SECONDS + 1
