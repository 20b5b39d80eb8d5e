"""Where an answer goes: a slash command's response_url, or a conversation (thread or DM).

Each destination renders the Reply for itself, so every answer, refusal and
apology in Slack goes through `bot.render.slack` the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse

from bot import reply
from bot.core import MAX_COMMANDS
from bot.render.slack import Message, render


class Destination(Protocol):
    answers: ClassVar[int]      # commands of one message answered here, each in a message of its own

    async def send(self, answer: reply.Reply, asked: str = "") -> None:
        """Answer where the person asked; `asked` is the command answered, when there was one."""

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

    async def send(self, answer: reply.Reply, asked: str = "") -> None:
        shareable = answer.ok and not self.public and not isinstance(answer.body, reply.Noted)
        share = asked if shareable and asked else None
        message = render(answer, share=share, shared_by=self.shared_by)
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

    async def send(self, answer: reply.Reply, asked: str = "") -> None:
        if isinstance(answer.body, reply.History) and not self.channel.startswith("D"):
            await self.refuse(answer)
        else:
            await self.post(render(answer))

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


def conversation(client: AsyncWebClient, event: Mapping[str, Any]) -> Conversation:
    """Mentions are answered in their thread (starting one); DMs in place, or in their thread."""
    thread = event.get("thread_ts")
    if event.get("type") == "app_mention":
        thread = thread or event.get("ts")
    return Conversation(client, event["channel"], event.get("user", ""), thread)
