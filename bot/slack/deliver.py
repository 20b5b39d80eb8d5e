"""Where an answer goes: a slash command's response_url, or a conversation (thread or DM); and where its chart goes.

Each destination renders the Reply for itself, so every answer, refusal and
apology in Slack goes through `bot.render.slack` the same way. A chart is a
file, uploaded beside the answer (`ChartPlace`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse

from bot import reply
from bot.core import MAX_COMMANDS
from bot.render.chart import Chart
from bot.render.slack import Message, render

log = logging.getLogger(__name__)

NOT_DRAWN = "Sorry, I could not draw that chart; the answer itself stands."
MAX_ALT_TEXT = 1000          # Slack's limit for a file's alt text
MAX_TITLE = 100
FIRST_CLAUSE = re.compile(r"[.:;](?:\s|$)")


class Destination(Protocol):
    answers: ClassVar[int]      # commands of one message answered here, each in a message of its own

    async def send(self, answer: reply.Reply, asked: str = "", chart: str | None = None) -> None:
        """Answer where the person asked; `asked` is the command answered, when there was one, and `chart` the
        command its Chart button runs, when it has one."""

    async def refuse(self, answer: reply.Reply) -> None:
        """Answer only the person asking, where Slack allows it."""


@dataclass
class ResponseUrl:
    """A slash command or button: answered through its response_url, ephemeral unless public.

    An ephemeral answer gets a Share button that re-runs the command it answers, except feedback, which
    sharing would give twice.
    """

    answers: ClassVar[int] = 4      # Slack takes five messages per response_url; the fifth says what was left
    respond: AsyncRespond
    public: bool = False
    shared_by: str | None = None

    async def send(self, answer: reply.Reply, asked: str = "", chart: str | None = None) -> None:
        shareable = answer.ok and not self.public and not isinstance(answer.body, reply.Noted)
        share = asked if shareable and asked else None
        message = render(answer, share=share, shared_by=self.shared_by, chart=chart)
        delivered(await self.respond(**message, response_type="in_channel" if self.public else "ephemeral",
                                     replace_original=False, unfurl_links=False, unfurl_media=False))

    async def refuse(self, answer: reply.Reply) -> None:
        delivered(await self.respond(**render(answer), response_type="ephemeral", replace_original=False))


def delivered(response: WebhookResponse) -> None:
    """A response_url answers with a status rather than raising; a refused answer must not vanish."""
    if response.status_code != 200:
        raise RuntimeError(f"Slack's response_url refused the answer: {response.status_code} {response.body[:200]}")


@dataclass
class Conversation:
    """A channel thread (mentions) or a DM; `thread_ts` None answers in place.

    `history` lists the asker's predictions from everywhere, private answers included, so in a channel it
    is answered to the asker alone.
    """

    answers: ClassVar[int] = MAX_COMMANDS
    client: AsyncWebClient
    channel: str
    user: str
    thread_ts: str | None = None

    async def send(self, answer: reply.Reply, asked: str = "", chart: str | None = None) -> None:
        if isinstance(answer.body, reply.History) and not self.channel.startswith("D"):
            await self.refuse(answer)
        else:
            await self.post(render(answer, chart=chart))

    async def refuse(self, answer: reply.Reply) -> None:
        await self.client.chat_postEphemeral(channel=self.channel, user=self.user, thread_ts=self.thread_ts,
                                             **render(answer))

    async def post(self, message: Message) -> str:
        """Post and return the new message's ts, to edit it later."""
        sent = await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts,
                                                  unfurl_links=False, unfurl_media=False, **message)
        return sent["ts"]

    async def update(self, ts: str, message: Message) -> None:
        await self.client.chat_update(channel=self.channel, ts=ts, **message)

    async def upload(self, files: Sequence[reply.File]) -> None:
        if files:
            await self.client.files_upload_v2(
                channel=self.channel, thread_ts=self.thread_ts,
                file_uploads=[{"content": f.content, "filename": f.filename, "title": f.filename} for f in files])


@dataclass
class ChartPlace:
    """Where a chart of an answer goes: the answer's conversation, in its thread if it has one; or, when the answer
    was only its asker's to see (an ephemeral slash-command answer, and the buttons on one), that person's DM. A
    file cannot be ephemeral, and an ephemeral message has no thread to upload into, so a private answer's chart
    goes to a DM, opened with conversations.open (the im:write scope). The upload's alt text and title say what
    the chart shows, in words. A chart that could not be drawn, or that Slack will not take, is said to the person
    alone: the answer itself stands."""

    client: AsyncWebClient
    user: str
    channel: str | None = None          # None: the DM with `user`
    thread_ts: str | None = None

    async def show(self, chart: Chart | None, where: Destination) -> None:
        """Upload `chart`; or, when it is None (chart_of logged why it could not be drawn) or Slack will not take
        it, say so at `where`, to the person alone."""
        if chart is None:
            await where.refuse(reply.Reply.refused(NOT_DRAWN, "chart_not_drawn"))
            return
        try:
            await self.upload(chart)
        except SlackClientError as error:
            said = error.response.get("error", "") if isinstance(error, SlackApiError) else type(error).__name__
            log.warning("Slack would not take the chart %s: %s", chart.filename, said)
            await where.refuse(reply.Reply.refused(upload_refused(said), "chart_not_uploaded"))

    async def upload(self, chart: Chart) -> None:
        channel = self.channel or (await self.client.conversations_open(users=self.user))["channel"]["id"]
        await self.client.files_upload_v2(channel=channel, thread_ts=self.thread_ts, content=chart.png,
                                          filename=chart.filename, title=title(chart.alt),
                                          alt_txt=clipped(chart.alt, MAX_ALT_TEXT))


def upload_refused(said: str) -> str:
    """What to tell the person when Slack would not take a chart (`said`: Slack's error, or the failure's kind)."""
    if said in ("not_in_channel", "channel_not_found"):
        return ("Sorry, I may not post the chart in this channel; invite me first (`/invite @predbot`), or ask "
                "in a DM with me. The answer itself stands.")
    return f"Sorry, Slack would not take the chart ({said}); the answer itself stands."


def title(alt: str) -> str:
    """A chart's title: the first clause of its alt text ("Predicted stays (68% confident)")."""
    match = FIRST_CLAUSE.search(alt)
    return clipped(alt[:match.start()] if match else alt, MAX_TITLE)


def clipped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def conversation(client: AsyncWebClient, event: Mapping[str, Any]) -> Conversation:
    """Mentions are answered in their thread (starting one); DMs in place, or in their thread."""
    thread = event.get("thread_ts")
    if event.get("type") == "app_mention":
        thread = thread or event.get("ts")
    return Conversation(client, event["channel"], event.get("user", ""), thread)
