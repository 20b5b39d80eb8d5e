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
reading runs on daemon threads of the worker's own, because asyncio's
executor threads are joined at exit and a 25 MiB mail of header lines takes
the email parser 10 s; an interrupted mail stays in incoming/ and is redone
next start, as after a kill -9. Every attempt is counted in the spool before
it begins; a mail whose answering failed twice (an exception, or the process
killed under it) is set aside in failed/ with a reply saying so, not tried
forever.

Several at once: up to `workers` mails are answered side by side, each in a
task of its own, its reading, store calls and spool writes on as many
threads; with one at a time, twenty senders' mail queued behind each
other's. What depends on the order mail came in keeps it. Each mail decides
(a copy of one answered or being answered, the claim, the guard and its rate
limit) after the mail taken before it has decided. And a mail whose
conversation (reply.Sender's: its thread) has an earlier mail still being
answered waits in that conversation's line, neither counted as attempted nor
holding a place, and is answered after it by the same task: a follow-up then
finds the answer before it recorded, as the core queues the record before it
returns and a follow-up flushes the store's queue before it looks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum, auto
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


class Outcome(Enum):
    """How an attempt at a spooled mail ended."""

    REPLIED = auto()        # its reply is queued
    DONE = auto()           # it needs no reply, or none could be made now: nothing more to do for it at present
    WAITING = auto()        # it waits in its conversation's line behind an earlier mail still being answered


@dataclass(frozen=True)
class Job:
    """A spooled mail, read, that is to be answered."""

    path: Path
    envelope: Envelope
    mail: Mail
    key: str
    blocks: list[str]

    @property
    def conversation(self) -> str:
        """Whose answers its own waits for: the mail before it in its thread; a mail naming no thread stands alone."""
        return thread_of(self.mail) or self.key


@dataclass(frozen=True)
class Turn:
    """A mail's place in the order of decisions: it decides once the mail taken before it has decided."""

    before: asyncio.Event
    decided: asyncio.Event


@dataclass
class Slot:
    """One of the `workers` places a mail is answered in, and the conversation whose line it holds, once it does."""

    conversation: str | None = None


@dataclass
class Line:
    """A conversation's mail: the slot answering one of them, and those decided meanwhile, oldest first."""

    slot: Slot
    waiting: deque[Job] = field(default_factory=deque)


class Worker:
    def __init__(self, answerer: Answerer, spool: Spool, guard: Guard, shared: Shared, keep: float,
                 max_commands: int, queued: Callable[[], None], workers: int) -> None:
        """`keep`: the seconds a claim on a mail is remembered in `shared`, as the spool remembers its answers;
        `workers`: how many mails are answered at once."""
        self.answerer = answerer
        self.spool = spool
        self.guard = guard
        self.shared = shared
        self.keep = keep
        self.max_commands = max_commands
        self.queued = queued
        self.wake = asyncio.Event()
        self.workers = workers
        self.threads = Pool(workers, name="predbot-mail")
        self.slots = asyncio.Semaphore(workers)
        self.tasks: set[asyncio.Task] = set()
        self.taken: set[Path] = set()               # incoming mail that is being answered or waits in a line
        self.answering: dict[str, Path] = {}        # the key of each mail decided to be answered -> its file
        self.lines: dict[str, Line] = {}            # conversation -> its line, while a mail of it is answered
        self.decided = asyncio.Event()              # the mail taken last has decided
        self.decided.set()

    async def run(self) -> None:
        """Answer everything in incoming/, oldest first, up to `workers` mails at once; then sleep until the server
        accepts more. A mail taken is taken once, until it is done: one a wake-up finds still there is passed over."""
        try:
            while True:
                self.wake.clear()
                busy = set(self.taken)          # before listing: a mail done while it lists is gone from the list
                for path in await self.threads.run(self.spool.incoming):
                    if path in busy:
                        continue
                    if await self.threads.run(lambda path=path: self.spool.attempts(path)):
                        await self.alone(path)
                    else:
                        await self.slots.acquire()
                        self.start(path)
                await self.wake.wait()
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            self.threads.close()

    def start(self, path: Path) -> asyncio.Task:
        """Answer the mail at `path` in a task of its own, on a slot already acquired for it."""
        self.taken.add(path)
        before, self.decided = self.decided, asyncio.Event()
        task = asyncio.create_task(self.work(path, Turn(before, self.decided)), name=f"mail {path.name}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def alone(self, path: Path) -> None:
        """Answer a mail that was being answered when a process died with nothing else in flight. Every mail in
        flight then had an attempt counted; answered alone, only the one that kills the process again is counted
        again, and set aside, not the others it happened to share the process with."""
        held = 0
        try:
            while held < self.workers:
                await self.slots.acquire()
                held += 1
            task, held = self.start(path), held - 1         # its task gives back the slot it took
            await asyncio.wait({task})
        finally:
            for _ in range(held):
                self.slots.release()

    async def work(self, path: Path, turn: Turn) -> None:
        """Answer the mail at `path`, then, on the same slot, each mail of its conversation that came to wait
        behind it, in the order they were decided."""
        slot = Slot()
        try:
            try:
                self.finish(path, await self.take(path, slot, lambda: self.answer(path, slot, turn)))
            finally:
                turn.decided.set()              # also when it never got as far as deciding
            while slot.conversation is not None and (waiting := self.lines[slot.conversation].waiting):
                job = waiting.popleft()
                self.finish(job.path, await self.take(job.path, slot, lambda job=job: self.respond(job)))
        finally:
            if slot.conversation is not None:   # stopped: what waits stays in incoming/ for the next start
                self.lines.pop(slot.conversation)
            self.slots.release()

    def finish(self, path: Path, outcome: Outcome) -> None:
        """Done with the mail at `path` for now, unless it waits in a line."""
        if outcome is not Outcome.WAITING:
            self.taken.discard(path)
            for key in [key for key, answered in self.answering.items() if answered == path]:
                del self.answering[key]

    async def take(self, path: Path, slot: Slot, first: Callable[[], Awaitable[Outcome]]) -> Outcome:
        """Answer one spooled mail with `first`: again at once after a failure, and after two, set it aside.
        A mail that comes to wait in its conversation's line is not counted as attempted while it waits."""
        attempt = first
        while True:
            try:
                # on the loop, not in a thread: a stop must not fall between counting and uncounting
                tries = self.spool.begin(path)
            except OSError:
                log.exception("could not start on spooled mail %s; it stays queued", path.name)
                return Outcome.DONE
            try:
                if tries > MAX_ATTEMPTS:
                    told = await self.threads.run(lambda: self.set_aside(path))
                    outcome = Outcome.REPLIED if told else Outcome.DONE
                else:
                    outcome = await attempt()
            except asyncio.CancelledError:        # a graceful stop: this attempt does not count
                self.uncount(path)
                raise
            except Exception:  # noqa: BLE001 - one bad mail must not stall the queue
                log.exception("attempt %d at answering spooled mail %s failed", tries, path.name)
                if tries > MAX_ATTEMPTS:          # not even set aside (a full disk?): it waits for the next start
                    return Outcome.DONE
                attempt = lambda: self.answer(path, slot)      # noqa: E731 - read again from the spool
                continue
            if outcome is Outcome.WAITING:
                self.uncount(path)
            elif outcome is Outcome.REPLIED:
                self.queued()
            return outcome

    def uncount(self, path: Path) -> None:
        try:
            self.spool.interrupted(path)
        except OSError:
            log.exception("could not uncount the interrupted attempt at %s", path.name)

    async def answer(self, path: Path, slot: Slot, turn: Turn | None = None) -> Outcome:
        """One attempt at a spooled mail: read it, decide in its turn, and answer it, unless an earlier mail of its
        conversation is being answered; then it waits in that one's line."""
        try:
            job = await self.decide(path, turn)
        finally:
            if turn is not None:
                turn.decided.set()
        if job is None:
            return Outcome.DONE
        line = self.lines.setdefault(job.conversation, Line(slot))
        if line.slot is not slot:
            line.waiting.append(job)
            return Outcome.WAITING
        slot.conversation = job.conversation
        return await self.respond(job)

    async def respond(self, job: Job) -> Outcome:
        """Answer a mail decided to be answered, and queue the reply."""
        answers, notes = await self.answers(job.mail, list(job.blocks), sender_of(job))
        await self.threads.run(lambda: self.reply(job, answers, notes))
        return Outcome.REPLIED

    async def decide(self, path: Path, turn: Turn | None) -> Job | None:
        """The mail, when it is to be answered, or None (then it is settled here). Decided after the mail taken
        before it, when it has a `turn` (a first attempt): copies, rate limits and conversations go by the order
        mail came in, while reading it goes on beside the others."""
        job = await self.threads.run(lambda: self.read(path))
        if turn is not None:
            await turn.before.wait()
        if self.answering.setdefault(job.key, path) != path:
            log.info("mail %s is being answered already; dropping this copy", job.mail.message_id[:200] or job.key)
            await self.threads.run(lambda: self.spool.done(path))
            return None
        if await self.threads.run(lambda: self.settled(job)):
            return None
        return job

    def read(self, path: Path) -> Job:
        """The mail and its commands."""
        envelope, raw = unpack(path)
        mail = parse(raw, envelope.mail_from)
        return Job(path, envelope, mail, message_key(mail.message_id, raw), segment(own_words(mail.text)))

    def settled(self, job: Job) -> bool:
        """Whether the mail is not to be answered, and settled here: answered before, claimed by another host,
        or stopped by the guard."""
        mail, key = job.mail, job.key
        if self.spool.answered(key):
            log.info("mail %s was answered before; dropping this copy", mail.message_id[:200] or key)
        elif not self.claimed(mail, key):
            log.info("mail %s is answered by another host; dropping this copy", mail.message_id[:200] or key)
        elif reason := self.guard.why_not(mail):
            self.spool.settle(key, reason)
        else:
            return False
        self.spool.done(job.path)
        return True

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


def thread_of(mail: Mail) -> str:
    """The mail's thread: the first Message-ID its References name, else its own, as a mail starts a thread;
    "" when it names none."""
    return mail.references[0] if mail.references else mail.thread_id or ""


def sender_of(job: Job) -> Sender:
    """Who the answers go to, at the bot's domain (the address the mail came to), in the mail's thread."""
    mail = job.mail
    domain = job.envelope.rcpt_tos[0].rpartition("@")[2].lower()
    return Sender(mail.answer_to, mail.name, "email", medium="email", workspace=domain,
                  conversation=thread_of(mail))
