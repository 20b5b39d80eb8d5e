"""The answering stage: spooled mail -> guard -> the Answerer per command -> reply queued in the spool.

At least once and idempotent: a mail leaves incoming/ only after its reply
(or the decision not to reply) is on disk under the mail's key, and a mail
whose key is already there is dropped. A crash anywhere repeats at most the
work, never the reply.

Once across hosts: hosts that share a store each keep their own spool, and
claim a mail's key in the store (for this spool's host) before deciding
anything about it; a mail another host claimed is dropped as a duplicate,
while this host's own claim stays its own, so its retries still answer. A
store that cannot be reached costs the check, never the answer: the mail is
answered, with a warning.

Reading a mail and composing its reply cost at most what the mail's size
allows (parse.py bounds them), and scoring goes through the Answerer, which
has threads of its own and a time budget. Neither holds up a stop: the
reading runs on a daemon thread of the worker's own, because asyncio's
executor threads are joined at exit and a 25 MiB mail of header lines takes
the email parser 10 s; an interrupted mail stays in incoming/ and is redone
next start, as after a kill -9. Every attempt is counted in the spool before
it begins; a mail whose answering failed twice (an exception, or the process
killed under it) is set aside in failed/ with a reply saying so, not tried
forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from bot.answering import Pool
from bot.mail.body import own_words
from bot.mail.compose import compose
from bot.mail.guard import Guard
from bot.mail.parse import Mail, parse
from bot.mail.spool import Envelope, Spool, message_key, unpack
from bot.render.email import Answer
from bot.reply import Sender
from bot.store.writer import describe
from parser import MAX_COMMAND_CHARS, Predict, segment
from parser import parse as parse_command
from scoring.problems import shorten

if TYPE_CHECKING:
    from bot.answering import Answerer
    from bot.store.shared import Shared

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2
MAX_ECHO_CHARS = 2000      # of a command quoted back in the reply (fifty rows fit); a longer one is refused anyway
SET_ASIDE = ("I could not answer your mail: something went wrong on our side, twice, while answering it. "
             "I have set it aside for the bot's owner to look into; you need not send it again.")


@dataclass(frozen=True)
class Job:
    """A spooled mail, read, that is to be answered."""

    path: Path
    envelope: Envelope
    mail: Mail
    key: str
    blocks: list[str]


class Worker:
    def __init__(self, answerer: Answerer, spool: Spool, guard: Guard, shared: Shared, keep: float,
                 max_commands: int, queued: Callable[[], None]) -> None:
        """`keep`: the seconds a claim on a mail is remembered in `shared`, as the spool remembers its answers."""
        self.answerer = answerer
        self.spool = spool
        self.guard = guard
        self.shared = shared
        self.keep = keep
        self.max_commands = max_commands
        self.queued = queued
        self.wake = asyncio.Event()
        self.thread = Pool(1, name="predbot-mail")

    async def run(self) -> None:
        """Answer everything in incoming/, oldest first; then sleep until the server accepts more."""
        try:
            while True:
                self.wake.clear()
                for path in await self.thread.run(self.spool.incoming):
                    await self.take(path)
                await self.wake.wait()
        finally:
            self.thread.close()

    async def take(self, path: Path) -> None:
        """Answer one spooled mail: again at once after a failure, and after two, set it aside."""
        while True:
            try:
                # on the loop, not in a thread: a stop must not fall between counting and uncounting
                tries = self.spool.begin(path)
            except OSError:
                log.exception("could not start on spooled mail %s; it stays queued", path.name)
                return
            try:
                queued = await (self.thread.run(lambda: self.set_aside(path)) if tries > MAX_ATTEMPTS
                                else self.answer(path))
            except asyncio.CancelledError:        # a graceful stop: this attempt does not count
                try:
                    self.spool.interrupted(path)
                except OSError:
                    log.exception("could not uncount the interrupted attempt at %s", path.name)
                raise
            except Exception:  # noqa: BLE001 - one bad mail must not stall the queue
                log.exception("attempt %d at answering spooled mail %s failed", tries, path.name)
                if tries > MAX_ATTEMPTS:          # not even set aside (a full disk?): it waits for the next start
                    return
                continue
            if queued:
                self.queued()
            return

    async def answer(self, path: Path) -> bool:
        """Answer one spooled mail; True when a reply was queued."""
        job = await self.thread.run(lambda: self.read(path))
        if job is None:
            return False
        answers, notes = await self.answers(job.mail, job.blocks, sender_of(job))
        await self.thread.run(lambda: self.reply(job, answers, notes))
        return True

    def read(self, path: Path) -> Job | None:
        """The mail and its commands, or None when it is not to be answered (then it is settled here)."""
        envelope, raw = unpack(path)
        mail = parse(raw, envelope.mail_from)
        key = message_key(mail.message_id, raw)
        if self.spool.answered(key):
            log.info("mail %s was answered before; dropping this copy", mail.message_id[:200] or key)
        elif not self.claimed(mail, key):
            log.info("mail %s is answered by another host; dropping this copy", mail.message_id[:200] or key)
        elif reason := self.guard.why_not(mail):
            self.spool.settle(key, reason)
        else:
            return Job(path, envelope, mail, key, segment(own_words(mail.text)))
        self.spool.done(path)
        return None

    def claimed(self, mail: Mail, key: str) -> bool:
        """Whether this host is the one to decide about the mail: its claim in the store, made now or before.
        Runs on the worker's thread, as every store call does, never on the loop."""
        try:
            return self.shared.claim(f"mail:{key}", self.spool.host, self.keep)
        except SQLAlchemyError as error:
            log.warning("answering mail %s without the cross-host check: the store cannot be reached (%s)",
                        mail.message_id[:200] or key, describe(error))
            return True

    def reply(self, job: Job, answers: list[Answer], notes: list[str]) -> None:
        envelope, message = compose(job.mail, job.envelope.rcpt_tos[0], job.key, answers, notes)
        self.spool.queue_reply(job.key, envelope, message)
        self.spool.done(job.path)

    async def answers(self, mail: Mail, blocks: list[str], sender: Sender) -> tuple[list[Answer], list[str]]:
        """One answer per command (up to the limit), one for the attached files; help when there is nothing."""
        if mail.problem:
            return [], [mail.problem]
        answers, notes = [], []
        if mail.attachments:
            # `predict churn` alone (a Predict with no rows) names the model for the files; within the length
            # limit only, so that nothing longer than a command is parsed
            first = parse_command(blocks[0]) if blocks and len(blocks[0]) <= MAX_COMMAND_CHARS else None
            asked = blocks.pop(0) if isinstance(first, Predict) and not first.rows else ""
            answers.append(Answer(asked, await self.answerer.answer(asked, sender, mail.attachments)))
        if len(blocks) > self.max_commands:
            notes.append(f"Your mail has {len(blocks)} commands; I answered the first {self.max_commands}. "
                         "Send the rest in another mail, or the rows as a CSV attachment.")
            blocks = blocks[:self.max_commands]
        for block in blocks:
            answers.append(Answer(shorten(block, MAX_ECHO_CHARS), await self.answerer.answer(block, sender)))
        if not answers:
            notes.append("I found no command in your mail: put each one at the start of its own line.")
            answers.append(Answer("", await self.answerer.answer("help", sender)))
        return answers, notes

    def set_aside(self, path: Path) -> bool:
        """Move a mail that failed twice to failed/ and, when its headers allow a reply, say so; True when
        a reply was queued. The reply is keyed by the mail, like any other, so it is queued once."""
        queued = False
        try:
            envelope, raw = unpack(path)
            mail = parse(raw, envelope.mail_from, headers_only=True)
            key = message_key(mail.message_id, raw)
            if self.spool.answered(key):         # answered just before a crash cut the last attempt short
                self.spool.done(path)
                return False
            if not self.claimed(mail, key):
                log.info("mail %s is answered by another host; not telling its sender", mail.message_id[:200] or key)
            elif not self.guard.why_not(mail):
                self.spool.queue_reply(key, *compose(mail, envelope.rcpt_tos[0], key, [], [SET_ASIDE]))
                queued = True
        except Exception:  # noqa: BLE001 - without readable headers there is no one to tell
            log.exception("spooled mail %s cannot be read well enough to reply to", path.name)
        self.spool.set_aside(path)
        log.error("answering spooled mail %s failed %d times; it is set aside in failed/%s", path.name,
                  MAX_ATTEMPTS, ", and its sender told" if queued else "")
        return queued


def sender_of(job: Job) -> Sender:
    """Who the answers go to, at the bot's domain (the address the mail came to), in the mail's thread: the first
    Message-ID its References name, else its own, as a mail starts a thread."""
    mail = job.mail
    thread = mail.references[0] if mail.references else mail.thread_id or ""
    domain = job.envelope.rcpt_tos[0].rpartition("@")[2].lower()
    return Sender(mail.answer_to, mail.name, "email", medium="email", workspace=domain, conversation=thread)
