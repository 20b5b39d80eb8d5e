"""A Reply as terminal text: its plain lines (bot.render.words), as they are."""

from __future__ import annotations

from bot import reply
from bot.render.words import plain_lines


def render(r: reply.Reply) -> str:
    return "\n".join(plain_lines(r))
