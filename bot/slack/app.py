"""The Slack app: one Bolt AsyncApp whose listeners serve Socket Mode and HTTP mode alike.

Every payload is acknowledged first, by a listener that does nothing else;
the work runs as a Bolt lazy listener after the ack has gone back to Slack.
(With `process_before_response` Bolt answers the moment `ack()` returns,
instead of polling for it every 10 ms.) Listeners only translate: a Slack
payload becomes (text, Sender, files) for the Answerer, which runs the core
on its own threads within a time budget, one command of the text at a time
(`bot.core.commands`), and each Reply goes back through a Destination. The
✓ and ✗ under a prediction hold the `feedback` command they stand for, which
is answered like one typed, to whoever clicked alone; the Chart button holds
the command that brings its answer back (`show ID`, `explain NAME`), answered
as the clicker may see it, and uploads that answer's chart beside it (a
`/predict chart ...` uploads each answer's chart at once). A chart is drawn
only when one is asked for, off the event loop; one that cannot be drawn or
uploaded leaves the answer standing, is logged, and is apologised for to the
person alone. Each person may ask
`Settings.rate` times per period, counted in the store across replicas. A
failure is logged with its traceback and, when the payload is known to be
Slack's, answered with a short apology where the person asked, so no message
is lost silently. An unverified body is never acted on: its response_url or
channel could be anyone's.

Before its ack, a payload is held in the store as an answer owed
(pending.py), and released once answered: a replica that dies between the
two leaves it for another to finish. Repeats are dropped first (dedupe.py).
In HTTP mode both happen before Bolt sees the request (`accept`, one trip to
the store), and Slack has its 200 while Bolt works: Bolt's ack would wait
behind every answer the event loop is sending.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot import reply
from bot.answering import Answerer
from bot.core import commands
from bot.render.chart import chart_of, draws
from bot.render.slack import CHART_ACTION, RIGHT_ACTION, SHARE_ACTION, WRONG_ACTION, chart_command
from bot.slack import access
from bot.slack.dedupe import DELIVERY, OWED, dropped, keys_of
from bot.slack.deliver import ChartPlace, Destination, ResponseUrl, conversation
from bot.slack.files import score_shared_files
from bot.slack.incoming import plain_text, slash_command
from bot.slack.pending import Pending
from bot.slack.settings import Settings
from bot.store.shared import Held, Shared

log = logging.getLogger(__name__)

COMMAND = "/predict"
ANSWERED_SUBTYPES = (None, "file_share")      # plain messages and file shares; not edits, joins or bots
VERIFIED = "predbot_verified"                 # set in a payload's Bolt context once it is known to be Slack's
ACKED = "predbot_acked"                       # set in a payload's Bolt context once a listener has taken it
DRAIN_SECONDS = 3.0       # `serve` gives its channels 7 s to stop, and must exit within 10 s of SIGTERM
RATE_LIMITED = "rate_limited"
FEEDBACK_ACTIONS = re.compile(f"^(?:{RIGHT_ACTION}|{WRONG_ACTION})$")

Work = Callable[[dict, AsyncWebClient, AsyncRespond, AsyncBoltContext], Awaitable[None]]


async def mark_verified(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
    """Bolt middleware, run after Bolt's own signature check (Socket Mode payloads, which come over our
    app-token websocket, skip it): whatever fails from here on may be answered where the body says."""
    context[VERIFIED] = True
    await next()


class SlackApp:
    """Holds the Bolt app (rather than extending it), and the answers still being worked on."""

    def __init__(self, answerer: Answerer, settings: Settings, shared: Shared, name: str = "predbot") -> None:
        self.answerer, self.settings, self.shared, self.name = answerer, settings, shared, name
        self.remembers = answerer.bot.store is not None       # a prediction's Chart button brings it back by id
        self.bolt = AsyncApp(name="predbot", token=settings.bot_token, signing_secret=settings.signing_secret,
                             process_before_response=True)
        # Bolt builds its own client (passing one as well makes it warn when SLACK_BOT_TOKEN is set).
        self.bolt.client.base_url = settings.api_url
        self.working: set[asyncio.Task] = set()
        self.pending = Pending(shared, settings.lease, self.resume)
        self.tending: asyncio.Task | None = None
        self.bolt.use(mark_verified)
        self.bolt.use(self.screen)
        self.bolt.command(COMMAND)(ack=self.acknowledge, lazy=[self.guarded(self.command)])
        self.bolt.action(SHARE_ACTION)(ack=self.acknowledge, lazy=[self.guarded(self.share)])
        self.bolt.action(FEEDBACK_ACTIONS)(ack=self.acknowledge, lazy=[self.guarded(self.feedback)])
        self.bolt.action(CHART_ACTION)(ack=self.acknowledge, lazy=[self.guarded(self.chart)])
        self.bolt.event("app_mention")(ack=self.acknowledge, lazy=[self.guarded(self.mention)])
        self.bolt.event("message")(ack=self.acknowledge, lazy=[self.guarded(self.message)])
        self.bolt.error(self.failure)

    def start(self) -> None:
        """Begin tending this process's owed answers and those of replicas that stopped."""
        self.tending = asyncio.create_task(self.pending.tend(), name="slack pending answers")

    async def accept(self, request: AsyncBoltRequest) -> None:
        """HTTP mode's ack, for a verified request: a repeat is dropped; anything else is held as owed and handed
        to Bolt, which works on it after Slack has its 200."""
        keys = keys_of(request)
        if not await self.pending.claim(keys, request.body):
            dropped(keys, request)
            return
        request.context[OWED], request.context[DELIVERY] = True, keys[0]
        self.keep(asyncio.create_task(self.dispatch(request)))

    async def dispatch(self, request: AsyncBoltRequest) -> None:
        """Bolt's turn at a payload held as owed; one that no listener takes is owed to no one."""
        try:
            await self.bolt.async_dispatch(request)
        except Exception:  # noqa: BLE001 - a task's failure would otherwise be seen by no one
            log.exception("Bolt could not dispatch Slack %s", describe(request.body))
        if not request.context.get(ACKED):
            await self.pending.release(request.context[DELIVERY])

    async def screen(self, body: dict, request: AsyncBoltRequest, context: AsyncBoltContext,
                     next: Callable[[], Awaitable[Any]]) -> BoltResponse | None:
        """Bolt middleware, for what `accept` has not screened (Socket Mode): the same decision and hold, then a
        repeat is acked and dropped, and a payload no listener takes is owed to no one."""
        if context.get(OWED):
            return await next()
        keys = keys_of(request) or [f"payload:{secrets.token_hex(16)}"]       # a Socket Mode command
        if not await self.pending.claim(keys, body):
            dropped(keys, request)
            return BoltResponse(status=200, body="")
        context[OWED], context[DELIVERY] = True, keys[0]
        response = await next()
        if not context.get(ACKED):
            await self.pending.release(keys[0])
        return response

    async def acknowledge(self, ack: AsyncAck, context: AsyncBoltContext) -> None:
        """Slack is told the answer is coming; it is owed already (`accept` or `screen` held it)."""
        context[ACKED] = True
        await ack()

    async def resume(self, held: Held) -> None:
        """Answer a payload that a replica acknowledged and did not answer, as if it had just come (it was
        verified when it did)."""
        await self.dispatch(AsyncBoltRequest(body=held.payload, mode="socket_mode",
                                             context={OWED: True, DELIVERY: held.key}))

    async def command(self, body: dict, client: AsyncWebClient, respond: AsyncRespond, context: Any) -> None:
        """`/predict ...` answers only the person asking; `/predict public ...` answers the channel; `/predict chart
        ...` adds each answer's chart, in the channel when public, else in the asker's DM (see ChartPlace)."""
        asked = slash_command(plain_text(body.get("text", "")))
        sender = slack_sender(body["user_id"], body.get("user_name", ""), body.get("channel_id", ""),
                              body.get("team_id", ""))
        charts = ChartPlace(client, sender.id, sender.conversation if asked.public else None) if asked.chart else None
        await self.answer(ResponseUrl(respond, asked.public), sender, asked.text, charts)

    async def share(self, body: dict, client: AsyncWebClient, respond: AsyncRespond, context: Any) -> None:
        """The Share button on an ephemeral answer: ask again, post it in the channel, drop the private copy."""
        sender = clicker(body)
        if await self.answer(ResponseUrl(respond, public=True, shared_by=sender.id), sender,
                             body["actions"][0]["value"]):
            await respond(delete_original=True)

    async def feedback(self, body: dict, client: AsyncWebClient, respond: AsyncRespond, context: Any) -> None:
        """✓ or ✗ under a prediction: its `feedback` command, answered to whoever clicked, where they clicked."""
        await self.answer(ResponseUrl(respond), clicker(body), body["actions"][0]["value"])

    async def chart(self, body: dict, client: AsyncWebClient, respond: AsyncRespond, context: Any) -> None:
        """The Chart button: its command answered for whoever clicked, as they may see it (someone else's
        prediction, asked elsewhere, is refused to them alone), and the answer's chart uploaded where the button
        is: the channel, the thread, the DM; or the clicker's DM, for a button on an ephemeral answer."""
        sender, where = clicker(body), ResponseUrl(respond)
        if not await self.allowed(where, sender):
            return
        answer = await self.answerer.answer(body["actions"][0]["value"], sender)
        if not answer.ok:
            await where.refuse(answer)
            return
        private = bool(part(body, "container").get("is_ephemeral"))
        await self.picture(answer, ChartPlace(client, sender.id, None if private else sender.conversation,
                                              None if private else sender.thread or None), where)

    async def picture(self, answer: reply.Reply, place: ChartPlace, where: Destination) -> None:
        """`answer`'s chart, drawn on a scoring thread (never on the event loop), shown at `place`; what went wrong,
        if anything, said at `where`."""
        await place.show(await self.answerer.pool.run(lambda: chart_of(answer)), where)

    async def mention(self, body: dict, client: AsyncWebClient, respond: AsyncRespond,
                      context: AsyncBoltContext) -> None:
        await self.converse(client, body["event"], context.bot_user_id, body.get("team_id", ""))

    async def message(self, body: dict, client: AsyncWebClient, respond: AsyncRespond,
                      context: AsyncBoltContext) -> None:
        """DMs only; bots (ours included) and message edits are not questions."""
        event = body["event"]
        if event.get("channel_type") == "im" and not event.get("bot_id") and event.get("subtype") in ANSWERED_SUBTYPES:
            await self.converse(client, event, context.bot_user_id, body.get("team_id", ""))

    async def converse(self, client: AsyncWebClient, event: Mapping[str, Any], bot_user: str | None,
                       team: str) -> None:
        where = conversation(client, event)
        sender = slack_sender(event.get("user", ""), "", event["channel"], team, where.thread_ts or "")
        text = plain_text(event.get("text", ""), bot_user)
        if files := event.get("files"):
            if await self.allowed(where, sender):
                await score_shared_files(self.answerer, self.settings, where, sender, text, files)
        else:
            await self.answer(where, sender, text)

    async def answer(self, where: Destination, sender: reply.Sender, text: str, charts: ChartPlace | None = None,
                     ) -> bool:
        """Ask the core about each command in the message, in turn, off the event loop and within its time
        budget, and send each Reply, followed by its chart at `charts` when given and it has one; False when
        refused."""
        if not await self.allowed(where, sender):
            return False
        asked, left_over = commands(text, where.answers)
        for command in asked:
            answer = await self.answerer.answer(command, sender)
            await where.send(answer, command, chart_command(answer, self.remembers))
            if charts is not None and draws(answer):
                await self.picture(answer, charts, where)
        if left_over:
            await where.send(left_over)
        return True

    async def allowed(self, where: Destination, sender: reply.Sender) -> bool:
        refusal = access.refusal(self.settings, sender) or await self.rate_refusal(sender)
        if refusal is not None:
            await where.refuse(refusal)
        return refusal is None

    async def rate_refusal(self, sender: reply.Sender) -> reply.Reply | None:
        """A refusal once the sender has asked `Settings.rate` times in its period, counted by every replica."""
        count, period = self.settings.rate
        if count <= 0:
            return None
        try:
            wait = await asyncio.to_thread(self.shared.admit, f"slack:{sender.workspace}:{sender.id}", count, period)
        except SQLAlchemyError as error:
            log.warning("answering %s without counting it against the rate limit: the store failed (%s)",
                        sender.id, type(error).__name__)
            return None
        if not wait:
            return None
        return reply.Reply.refused(f"You have asked me {count} times in the last {period:g} seconds, which is as "
                                   f"many as I answer; ask again in {math.ceil(wait)} s.", RATE_LIMITED)

    def guarded(self, work: Work) -> Work:
        """A lazy listener that stopping waits for, whose failure reaches `failure` (Bolt only logs it), and whose
        answer, given or apologised for, is no longer owed (one cut short stays owed, for another replica)."""

        async def lazy(body: dict, client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext) -> None:
            self.keep(asyncio.current_task())
            try:
                await work(body, client, respond, context)
            except Exception as error:  # noqa: BLE001 - logged with its traceback and apologised for
                await self.failure(error, body, client, respond, context)
            await self.pending.release(context[DELIVERY])     # within the task, so `drain` waits for it

        lazy.__name__ = work.__name__          # Bolt tells lazy listeners apart by name
        return lazy

    async def failure(self, error: Exception, body: dict, client: AsyncWebClient, respond: AsyncRespond,
                      context: AsyncBoltContext) -> None:
        """Every listener's and middleware's failure: log it all, and apologise where a verified body says."""
        log.error("Slack %s failed", describe(body), exc_info=error)
        if not context.get(VERIFIED):
            return
        event = part(body, "event")
        where = (ResponseUrl(respond) if body.get("response_url")
                 else conversation(client, event) if event.get("channel") else None)
        if where is None:
            return
        try:
            await where.send(reply.Reply.apology())
        except Exception:  # noqa: BLE001 - the log already has the first failure; add this one
            log.exception("could not send the apology for %s either", describe(body))

    def keep(self, task: asyncio.Task) -> None:
        """A task answering Slack: `drain` waits for it."""
        self.working.add(task)
        task.add_done_callback(self.working.discard)

    async def stop(self) -> None:
        """Let answers in progress finish, then stop tending: what is unfinished is left for another replica."""
        await self.drain()
        if self.tending is not None:
            self.tending.cancel()
            await asyncio.gather(self.tending, return_exceptions=True)

    async def drain(self, timeout: float = DRAIN_SECONDS) -> int:
        """Let answers in progress finish before the connection goes away; how many did not."""
        if not self.working:
            return 0
        _, late = await asyncio.wait(self.working, timeout=timeout)
        if late:
            log.warning("stopped with %d Slack answers unfinished", len(late))
        return len(late)


def slack_sender(user: str, name: str, channel: str, team: str, thread: str = "") -> reply.Sender:
    """A Slack user in a channel of a workspace (a team), in a thread or not: everyone in the channel sees what is
    answered there, so it is also the conversation a remembered prediction belongs to."""
    return reply.Sender(user, name, channel, "slack", team, channel, thread)


def clicker(body: Mapping[str, Any]) -> reply.Sender:
    """Who clicked a button, and where the message with the button is: its channel and thread."""
    user, container = part(body, "user"), part(body, "container")
    channel = part(body, "channel").get("id") or container.get("channel_id", "")
    thread = container.get("thread_ts") or part(body, "message").get("thread_ts", "")
    return slack_sender(user["id"], user.get("username", ""), channel, part(body, "team").get("id", ""), thread)


def describe(body: Mapping[str, Any]) -> str:
    """What a payload was, for the log: never its tokens or response_url."""
    if "command" in body:
        return f"command {body['command']} from {body.get('user_id')} in {body.get('channel_id')}"
    if event := part(body, "event"):
        return f"{event.get('type')} event {body.get('event_id')} from {event.get('user')} in {event.get('channel')}"
    return f"{body.get('type', 'request')} from {part(body, 'user').get('id')}"


def part(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A payload's nested object, or {} when it is missing or not an object: failures must still be described."""
    value = body.get(key)
    return value if isinstance(value, Mapping) else {}
