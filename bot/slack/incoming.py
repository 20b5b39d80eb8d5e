"""Slack's message markup back to what the person typed.

Slack sends `&`, `<` and `>` as `&amp;`, `&lt;`, `&gt;` (so `->` arrives as
`-&gt;`), wraps mentions, channels and links in `<...>`, and some clients
turn straight quotes into curly ones. The core reads plain text.
"""

from __future__ import annotations

import re

MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
PUBLIC = re.compile(r"^\s*public(?::|\s|$)\s*", re.IGNORECASE)


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


def public_command(text: str) -> tuple[bool, str]:
    """`/predict public ...` posts in the channel; anything else answers only the person asking."""
    match = PUBLIC.match(text)
    return (True, text[match.end():].strip()) if match else (False, text.strip())
