"""manifest.yaml declares everything the Slack app listens to and the scopes it needs."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.app import COMMAND

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "manifest.yaml").read_text())


def test_the_slash_command_has_a_usage_hint():
    [command] = MANIFEST["features"]["slash_commands"]
    assert command["command"] == COMMAND and command["usage_hint"] and command["description"]


def test_events_scopes_interactivity_and_socket_mode():
    settings = MANIFEST["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) >= {
        "commands", "chat:write", "app_mentions:read", "im:history", "files:read", "files:write"}
    assert settings["interactivity"]["is_enabled"] and settings["socket_mode_enabled"]
    assert MANIFEST["features"]["app_home"]["messages_tab_enabled"]           # people can DM the bot
    assert not MANIFEST["features"]["app_home"]["messages_tab_read_only_enabled"]


def test_the_readme_gives_the_http_mode_manifest_in_full():
    """It is manifest.yaml with Socket Mode off and Slack's three request URLs set, and nothing else changed."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    slack = readme.split("\n## Slack\n", 1)[1].split("\n## ", 1)[0]
    http = yaml.safe_load(slack.split("```yaml\n", 1)[1].split("```", 1)[0])
    url = "https://YOUR-HOST/slack/events"
    settings = http["settings"]
    assert settings["event_subscriptions"].pop("request_url") == url
    assert settings["interactivity"].pop("request_url") == url
    assert http["features"]["slash_commands"][0].pop("url") == url
    assert settings["socket_mode_enabled"] is False
    settings["socket_mode_enabled"] = True
    assert http == MANIFEST


def test_the_readme_says_to_invite_the_bot_to_a_channel():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "`/invite @predbot`" in readme.split("\n## Slack\n", 1)[1].split("\n## ", 1)[0]
