"""Slack's message markup back to what the person typed, and the words that steer a slash command.

Slack sends `&`, `<` and `>` as `&amp;`, `&lt;`, `&gt;` (so `->` arrives as
`-&gt;`), wraps mentions, channels and links in `<...>`, and some clients
turn straight quotes into curly ones. The core reads plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
OPTION = re.compile(r"\s*(public|chart)(?::|\s|$)\s*", re.IGNORECASE)     # matched from a position on


def plain_text(text: str, bot_user: str | None = None) -> str:
    """The text without the bot's own mention, other markup as its visible words, unescaped."""

    def visible(match: re.Match) -> str:
        target, label = match.group(1), match.group(2)
        if bot_user and target == f"@{bot_user}":
            return ""
        if label:
            return (target[0] if target[:1] in "#@" else "") + label
        return "@" + target[1:] if target.startswith("!") else target   # <!channel> -> @channel

    words = MARKUP.sub(visible, text)
    return words.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").translate(QUOTES).strip()


@dataclass(frozen=True)
class SlashCommand:
    """What `/predict` was asked, and how: `public` posts the answer in the channel (else only the person asking
    sees it); `chart` adds a chart of each answer that has one."""

    text: str
    public: bool = False
    chart: bool = False


def slash_command(text: str) -> SlashCommand:
    """`/predict public ...`, `/predict chart ...`, both in either order, or just `/predict ...`."""
    said, start = set(), 0
    while match := OPTION.match(text, start):
        said.add(match.group(1).lower())
        start = match.end()
    return SlashCommand(text[start:].strip(), "public" in said, "chart" in said)
