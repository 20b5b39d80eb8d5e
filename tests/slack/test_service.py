"""`predbot serve`'s Slack part: which mode, and one clear line when the configuration is wrong."""

from __future__ import annotations

import argparse

import pytest

from bot.core import Bot
from bot.slack import service
from bot.slack.fake import FakeSlack
from bot.slack.settings import Settings

ARGS = argparse.Namespace(host="127.0.0.1", port=0)


@pytest.fixture(scope="module")
def fake(loop):
    slack = FakeSlack()
    loop.run(slack.start())
    yield slack
    loop.run(slack.stop())


def start(loop, registry, env):
    return loop.run(service.start(Bot(registry), ARGS, env))


def refused(loop, registry, env) -> str:
    """The one line `serve` stops with. SystemExit is caught inside the loop, which it would otherwise end."""

    async def attempt():
        try:
            await service.start(Bot(registry), ARGS, env)
        except SystemExit as stopped:
            return str(stopped)
        return "started"

    return loop.run(attempt())


def test_no_bot_token_means_no_slack(loop, registry):
    assert start(loop, registry, {}) is None


def test_http_mode_describes_where_it_listens(loop, registry, fake):
    running = start(loop, registry, fake.env(SLACK_SIGNING_SECRET="s"))
    try:
        assert running.describe() == f"Slack as @predbot in Fake in HTTP mode at {running.url}"
        assert running.url.startswith("http://127.0.0.1:") and running.url.endswith("/slack/events")
    finally:
        loop.run(running.stop())


def test_http_mode_without_a_signing_secret_says_what_to_set(loop, registry, fake):
    assert refused(loop, registry, fake.env()) == (
        "predbot: Slack's HTTP mode needs SLACK_SIGNING_SECRET (the app's Basic Information page), "
        "or set SLACK_APP_TOKEN to use Socket Mode instead.")


@pytest.mark.parametrize("variable", ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"])
def test_a_wrong_token_is_named_but_never_shown(loop, registry, fake, variable):
    env = {**fake.env(SLACK_SIGNING_SECRET="s", SLACK_APP_TOKEN=fake.app_token), variable: "xoxb-wrong-123"}
    assert refused(loop, registry, env) == (
        f"predbot: Slack refused {variable} (invalid_auth); copy it again from the app's settings.")


def test_an_unreachable_slack_is_one_line(loop, registry):
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:1/api"}
    assert refused(loop, registry, env).startswith("predbot: cannot reach Slack at http://127.0.0.1:1/api/ (")


def test_arguments_and_settings():
    parser = argparse.ArgumentParser()
    service.add_arguments(parser.add_argument_group("slack"))
    assert vars(parser.parse_args([])) == {"host": "127.0.0.1", "port": 3000}
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-secret", "SLACK_SIGNING_SECRET": "shh",
                                  "PREDBOT_SLACK_ALLOWED_USERS": " U1, U2 ,", "SLACK_APP_TOKEN": "xapp-secret"})
    assert settings.allowed_users == {"U1", "U2"} and settings.socket_mode
    assert settings.api_url == "https://slack.com/api/"
    assert "secret" not in repr(settings) and "shh" not in repr(settings)
