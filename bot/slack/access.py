"""Optional allow-lists of Slack user and channel IDs, with a refusal that says what to do."""

from __future__ import annotations

from bot import reply
from bot.slack.settings import Settings

NOT_ALLOWED = "not_allowed"


def refusal(settings: Settings, sender: reply.Sender) -> reply.Reply | None:
    """None when the sender may ask here. DMs (IDs starting with D) follow the user list only."""
    if settings.allowed_users and sender.id not in settings.allowed_users:
        return reply.Reply.refused(f"Sorry, predbot only answers the people on its allow-list, and your Slack ID "
                                   f"({sender.id}) is not on it. Ask the bot's owner to add you.", NOT_ALLOWED)
    direct = sender.channel.startswith("D")
    if settings.allowed_channels and not direct and sender.channel not in settings.allowed_channels:
        return reply.Reply.refused(f"Sorry, predbot does not answer in this channel ({sender.channel}). Send it a "
                                   "direct message, or ask the bot's owner to allow this channel.", NOT_ALLOWED)
    return None
