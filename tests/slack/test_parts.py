"""Small parts of the Slack adapter: reading Slack's markup, spotting repeated deliveries."""

from __future__ import annotations

import pytest

from bot.slack.dedupe import delivery_keys
from bot.slack.incoming import SlashCommand, plain_text, slash_command


@pytest.mark.parametrize("sent, typed", [
    ("<@UBOT> predict: age=45", "predict: age=45"),
    ("whatif: age=45 -&gt; age=50", "whatif: age=45 -> age=50"),
    ("predict: plan=&lt;!channel&gt; &amp; more", "predict: plan=<!channel> & more"),
    ("<@UBOT> ask <@U2> in <#C1|general> about <http://x.io|x> <!here>", "ask @U2 in #general about x @here"),
    ("predict churn: plan=“Premium Plus”", 'predict churn: plan="Premium Plus"'),
])
def test_slack_markup_becomes_what_was_typed(sent, typed):
    assert plain_text(sent, "UBOT") == typed


@pytest.mark.parametrize("text, expected", [
    ("public age=45", (True, "age=45")), ("PUBLIC: models", (True, "models")), ("public", (True, "")),
    ("age=45", (False, "age=45")), ("public=1", (False, "public=1")), ("publicity=3", (False, "publicity=3")),
])
def test_public_is_a_prefix_word(text, expected):
    public, rest = expected
    assert slash_command(text) == SlashCommand(rest, public=public)


def test_delivery_keys_name_the_event_and_the_message():
    body = {"event_id": "Ev1", "event": {"type": "app_mention", "channel": "C1", "ts": "1.2"}}
    assert delivery_keys(body) == ["event:Ev1", "message:C1:1.2"]
    assert delivery_keys({"command": "/predict"}) == []
