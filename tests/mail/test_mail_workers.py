"""Several mails answered at once (--mail-workers): bounded, each mail taken once, a conversation's mail answered
one after another in the order it came, and a stop leaving what was under way for the next start."""

from __future__ import annotations

import re
import threading
from collections import defaultdict

import pytest
import shapes
from client import reply_text, send
from crashing import attempts, count
from doubles.loop import wait_until
from doubles.mail import ServiceThread

from bot.answering import Answerer
from bot.cli import build_parser
from bot.config import Config
from bot.core import Bot
from bot.mail.spool import Envelope, Spool
from bot.mail.worker import Worker

SLOW = "predict: age=45, income=60000, contract=month-to-month"


class SlowFirst(Bot):
    """Holds the answer to SLOW until `gate` opens (`held` counts it) and answers everything else at once; `asked`
    is every (conversation, command) in the order answering began."""

    def __init__(self, registry, store=None) -> None:
        super().__init__(registry, store=store)
        self.gate = threading.Event()
        self.held = threading.Semaphore(0)
        self.asked: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def handle(self, text, sender=None, *args, **kwargs):
        with self.lock:
            self.asked.append((sender.conversation if sender else "", text))
        if text == SLOW:
            self.held.release()
            assert self.gate.wait(20)
        return super().handle(text, sender, *args, **kwargs)


class Services:
    """Mail services on one spool over one Bot, replying to `sink`; stopped at the end unless stopped before."""

    def __init__(self, bot: Bot, sink, shared, spool) -> None:
        self.answerer = Answerer(bot)
        self.sink, self.shared, self.spool = sink, shared, spool
        self.running: list[ServiceThread] = []

    def start(self, *flags: str) -> ServiceThread:
        service = ServiceThread(self.answerer, ["--smtp-port", "0", "--spool", str(self.spool), "--rate-limit", "0",
                                                "--relay-host", "127.0.0.1", "--relay-port", str(self.sink.port),
                                                "--relay-backoff", "0.05", *flags], self.shared)
        self.running.append(service)
        return service

    def stop(self, service: ServiceThread) -> None:
        self.running.remove(service)
        service.close()

    def close(self) -> None:
        for service in self.running:
            service.close()
        self.answerer.close()


@pytest.fixture
def services(sink, shared, tmp_path):
    """`services(bot)`: start and stop mail services on tmp_path/spool over `bot`."""
    made = []

    def make(bot: Bot) -> Services:
        made.append(Services(bot, sink, shared, tmp_path / "spool"))
        return made[-1]

    yield make
    for each in made:
        each.close()


def spooled(root, *mails: bytes) -> list[str]:
    """Put mails in the spool's incoming/ as the SMTP server would, before any service starts; their file names."""
    spool = Spool(root)
    return [spool.accept(Envelope("ann@example.com", ("predbot@localhost",)), raw).name for raw in mails]


def in_thread(body: str, message_id: str, *before: str) -> bytes:
    """A mail in the thread of the ids `before` it (oldest first), as a mail client writes a reply."""
    extra = {"In-Reply-To": before[-1], "References": " ".join(before)} if before else {}
    return shapes.plain(body, subject="Re: churn question" if before else "churn question", message_id=message_id,
                        extra=extra)


def drained(root) -> bool:
    """Nothing is left to answer or to deliver."""
    return count(root / "incoming") == 0 and count(root / "outgoing") == 0


def test_mail_workers_are_four_unless_the_flag_says_how_many_above_0(capsys):
    def workers(*argv: str) -> int:
        return Config.from_args(build_parser().parse_args(["serve", *argv]), {}).mail.workers

    assert (workers(), workers("--mail-workers", "2")) == (4, 2)
    with pytest.raises(SystemExit):
        workers("--mail-workers", "0")
    assert "expected a whole number above 0, got '0'" in capsys.readouterr().err


def test_n_mails_are_answered_at_once_and_the_next_waits_for_one_of_them(services, gated, sink, tmp_path):
    root = tmp_path / "spool"
    names = spooled(root, *(shapes.plain(message_id=f"<m{n}@client.test>") for n in range(4)))
    services(gated).start("--mail-workers", "3")
    for _ in range(3):
        assert gated.held.acquire(timeout=20), "three mails are answered at once"
    assert attempts(root) == {name: 1 for name in names[:3]}, "the fourth is not taken while three are answered"
    gated.gate.set()
    assert sorted(r.in_reply_to for r in sink.wait_for(4)) == [f"<m{n}@client.test>" for n in range(4)]


def test_mail_in_flight_when_a_process_died_is_answered_alone_so_only_a_killer_is_blamed_again(services, gated, sink,
                                                                                            tmp_path):
    root = tmp_path / "spool"
    names = spooled(root, *(shapes.plain(message_id=f"<d{n}@client.test>") for n in range(3)))
    spool = Spool(root)
    for name in names[:2]:                      # two were being answered when the process was killed
        spool.begin(root / "incoming" / name)
    services(gated).start("--mail-workers", "3")
    assert gated.held.acquire(timeout=20)
    assert attempts(root) == {names[0]: 2, names[1]: 1}, "the first is answered alone: nothing else is taken"
    gated.gate.set()
    assert sorted(r.in_reply_to for r in sink.wait_for(3)) == [f"<d{n}@client.test>" for n in range(3)]
    wait_until(lambda: drained(root))
    assert count(root / "failed") == 0


def test_a_conversations_mail_is_answered_in_order_when_the_first_is_slow(services, registry, sink, tmp_path):
    bot = SlowFirst(registry)
    service = services(bot).start()
    try:
        send(service.port, in_thread(SLOW, "<t1@client.test>"))
        assert bot.held.acquire(timeout=20)
        send(service.port, in_thread("predict: age=30, income=40000", "<t2@client.test>", "<t1@client.test>"))
        send(service.port, in_thread("predict: age=50, income=70000", "<t3@client.test>", "<t1@client.test>",
                                     "<t2@client.test>"))
        send(service.port, in_thread("predict: age=60, income=50000", "<other@client.test>"))
        sink.reply_to("<other@client.test>")        # taken after the two, which have been decided by then
        assert [r.in_reply_to for r in sink.received] == ["<other@client.test>"]
        root = tmp_path / "spool"
        assert count(root / "incoming") == 3 and list(attempts(root).values()) == [1], \
            "the two waiting behind the slow one are not counted as attempted"
    finally:
        bot.gate.set()
    replies = {r.in_reply_to: r for r in sink.wait_for(4)}
    assert [text for conversation, text in bot.asked if conversation == "<t1@client.test>"] == [
        SLOW, "predict: age=30, income=40000", "predict: age=50, income=70000"]
    third = replies["<t3@client.test>"].message
    assert third["References"] == "<t1@client.test> <t2@client.test> <t3@client.test>"
    assert "age=50, income=70000" in reply_text(replies["<t3@client.test>"])


def test_a_follow_up_builds_on_the_prediction_still_being_answered_when_it_came(services, registry, store, sink):
    bot = SlowFirst(registry, store)
    service = services(bot).start()
    try:
        send(service.port, in_thread(SLOW, "<first@client.test>"))
        assert bot.held.acquire(timeout=20)
        send(service.port, in_thread("whatif: income=80000", "<second@client.test>", "<first@client.test>"))
        send(service.port, in_thread("predict: age=60, income=50000", "<other@client.test>"))
        sink.reply_to("<other@client.test>")        # the follow-up has been decided, and waits
    finally:
        bot.gate.set()
    [prediction_id] = re.findall(r"\bid ([0-9a-f]{12})\b", reply_text(sink.reply_to("<first@client.test>")))
    followed = reply_text(sink.reply_to("<second@client.test>"))
    assert f"built on {prediction_id}, the last prediction here" in followed


def test_a_burst_from_eight_threads_gets_one_reply_per_mail_in_each_threads_order(services, registry, sink,
                                                                                  tmp_path):
    root = tmp_path / "spool"
    ids = {thread: [f"<t{thread}m{n}@client.test>" for n in range(5)] for thread in range(8)}
    body = {message_id: f"predict: age={20 + 8 * n + thread}, income=60000"
            for thread, thread_ids in ids.items() for n, message_id in enumerate(thread_ids)}
    spooled(root, *(in_thread(body[ids[thread][n]], ids[thread][n], *ids[thread][:n])
                    for n in range(5) for thread in range(8)))
    bot = SlowFirst(registry)
    services(bot).start()
    sink.wait_for(40)
    wait_until(lambda: drained(root))
    replies = defaultdict(list)
    for received in sink.received:
        replies[received.in_reply_to].append(received)
    assert sorted(replies) == sorted(body) and all(len(copies) == 1 for copies in replies.values())
    for thread_ids in ids.values():
        for n, message_id in enumerate(thread_ids):
            reply = replies[message_id][0].message
            assert reply["References"].split() == thread_ids[:n + 1]            # folded when long
            assert reply["In-Reply-To"] == message_id
        answered = [text for conversation, text in bot.asked if conversation == thread_ids[0]]
        assert answered == [body[message_id] for message_id in thread_ids]
        assert [r.in_reply_to for r in sink.received if r.in_reply_to in thread_ids] == thread_ids, "sent in order"


def test_a_copy_of_a_mail_being_answered_is_dropped_at_once(services, registry, sink, tmp_path):
    root = tmp_path / "spool"
    twice = in_thread(SLOW, "<twice@client.test>")
    spooled(root, twice, twice)
    bot = SlowFirst(registry)
    services(bot).start()
    try:
        assert bot.held.acquire(timeout=20)
        wait_until(lambda: count(root / "incoming") == 1)      # while the first copy is still being answered
    finally:
        bot.gate.set()
    sink.reply_to("<twice@client.test>")
    wait_until(lambda: drained(root))
    assert [r.in_reply_to for r in sink.received] == ["<twice@client.test>"]


def test_a_mail_decides_after_the_one_before_so_a_slow_read_keeps_its_conversations_order(
        services, registry, sink, tmp_path, monkeypatch):
    root = tmp_path / "spool"
    asked = ["predict: age=30, income=40000", "predict: age=50, income=70000"]
    first, second = spooled(root, in_thread(asked[0], "<r1@client.test>"),
                            in_thread(asked[1], "<r2@client.test>", "<r1@client.test>"))
    release, second_read = threading.Event(), threading.Event()
    read = Worker.read

    def slow_first(self, path):
        if path.name == first:
            assert release.wait(20)
        job = read(self, path)
        if path.name == second:
            second_read.set()
        return job

    monkeypatch.setattr(Worker, "read", slow_first)
    bot = SlowFirst(registry)
    services(bot).start()
    try:
        assert second_read.wait(20), "the second mail is read while the first is not"
    finally:
        release.set()
    sink.wait_for(2)
    assert [text for _, text in bot.asked] == asked


def test_a_stop_while_n_mails_are_answered_leaves_them_uncounted_for_the_next_start(services, gated, sink,
                                                                                    tmp_path):
    root = tmp_path / "spool"
    names = spooled(root, *(shapes.plain(message_id=f"<m{n}@client.test>") for n in range(3)))
    running = services(gated)
    first = running.start("--mail-workers", "3")
    for _ in range(3):
        assert gated.held.acquire(timeout=20)
    assert set(attempts(root)) == set(names)
    running.stop(first)
    assert sorted(p.name for p in (root / "incoming").iterdir()) == names
    assert attempts(root) == {}, "a graceful stop does not count as a failed attempt"
    gated.gate.set()
    running.start("--mail-workers", "3")
    sink.wait_for(3)
    wait_until(lambda: drained(root))
    assert sorted(r.in_reply_to for r in sink.received) == [f"<m{n}@client.test>" for n in range(3)]
