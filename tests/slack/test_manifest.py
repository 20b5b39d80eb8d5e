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
