"""The answering stage: spooled mail -> guard -> Bot.handle per command -> reply queued in the spool.

At least once and idempotent: a mail leaves incoming/ only after its reply
(or the decision not to reply) is on disk under the mail's key, and a mail
whose key is already there is dropped. A crash anywhere repeats at most the
work, never the reply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.mail.body import own_words
from bot.mail.commands import command_blocks, names_model_for_files
from bot.mail.compose import compose
from bot.mail.guard import Guard
from bot.mail.parse import Mail, parse
from bot.mail.spool import Spool, message_key, unpack
from bot.render.email import Answer
from bot.reply import Sender

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, bot: Bot, spool: Spool, guard: Guard, max_commands: int,
                 queued: Callable[[], None]) -> None:
        self.bot = bot
        self.spool = spool
        self.guard = guard
        self.max_commands = max_commands
        self.queued = queued
        self.wake = asyncio.Event()

    async def run(self) -> None:
        """Answer everything in incoming/, oldest first; then sleep until the server accepts more."""
        while True:
            self.wake.clear()
            for path in await asyncio.to_thread(self.spool.incoming):
                await self.take(path)
            await self.wake.wait()

    async def take(self, path: Path) -> None:
        try:
            if await asyncio.to_thread(self.process, path):
                self.queued()
        except OSError:
            log.exception("could not answer spooled mail %s for now; it stays queued", path.name)
        except Exception:  # noqa: BLE001 - one bad mail must not stall the queue
            log.exception("could not answer spooled mail %s; moved to failed/", path.name)
            await asyncio.to_thread(self.spool.move, path, "failed")

    def process(self, path: Path) -> bool:
        """Answer one spooled mail; True when a reply was queued."""
        envelope, raw = unpack(path)
        mail = parse(raw, envelope.mail_from)
        key = message_key(mail.message_id, raw)
        queued = False
        if self.spool.answered(key):
            log.info("mail %s was answered before; dropping this copy", mail.message_id or key)
        elif reason := self.guard.why_not(mail):
            self.spool.settle(key, reason)
        else:
            answers, notes = self.answers(mail)
            reply_envelope, message = compose(mail, envelope.rcpt_tos[0], key, answers, notes)
            self.spool.queue_reply(key, reply_envelope, message)
            queued = True
        self.spool.done(path)
        return queued

    def answers(self, mail: Mail) -> tuple[list[Answer], list[str]]:
        """One answer per command (up to the limit), one for the attached files; help when there is nothing."""
        blocks = command_blocks(own_words(mail.text))
        sender = Sender(mail.answer_to, mail.name, "email")
        answers, notes = [], []
        if mail.attachments:
            asked = blocks.pop(0) if blocks and names_model_for_files(blocks[0]) else ""
            answers.append(Answer(asked, self.bot.handle(asked, sender, mail.attachments)))
        if len(blocks) > self.max_commands:
            notes.append(f"Your mail has {len(blocks)} commands; I answered the first {self.max_commands}. "
                         "Send the rest in another mail, or the rows as a CSV attachment.")
            blocks = blocks[:self.max_commands]
        answers += [Answer(block, self.bot.handle(block, sender)) for block in blocks]
        if not answers:
            notes.append("I found no command in your mail: put each one at the start of its own line.")
            answers.append(Answer("", self.bot.handle("help", sender)))
        return answers, notes
