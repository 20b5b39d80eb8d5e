"""kill -9 the mail server while mail flows: the machinery the crash test and the stress run share.

The server runs as a subprocess (`predbot serve --no-chat`); clients in threads send
mail with distinct Message-IDs and, like a real MTA, resend a mail whose
transaction broke off until it gets its 250. The server is killed at moments
picked from how far the traffic has got, and restarted on the same port and
spool; at the end the relay sink must hold one answer per mail. The one thing
SMTP cannot rule out is a reply the relay took just as we died, before its 250
reached us: that delivery is repeated, as the identical message (same bytes,
same Message-ID), never as a second answer.
"""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO

import shapes
from client import reply_text, send

from doubles.loop import wait_until
from doubles.mail import Received, Sink
from bot.mail.worker import SET_ASIDE

ROOT = Path(__file__).resolve().parents[2]


def count(directory: Path) -> int:
    return sum(1 for _ in directory.iterdir())


def attempts(spool: Path) -> dict[str, int]:
    """Incoming mail with attempts counted and not completed: name -> count."""
    return {path.name: int(path.read_bytes()) for path in (spool / "attempts").iterdir()}


class Server:
    """`predbot serve --no-chat` (mail alone: no Slack tokens) as a subprocess, started, killed and
    restarted on the same flags; its stderr goes to `log`."""

    def __init__(self, models: Path, argv: list[str], log: Path) -> None:
        self.models = models
        self.argv = argv
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, *extra: str) -> int:
        """Start and wait until it listens and works; its pid."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "--models", str(self.models), "serve",
                                         "--no-chat", *self.argv, *extra], cwd=ROOT, env=environment,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ready = threading.Event()
        threading.Thread(target=self._log, args=(self.process.stderr, ready), daemon=True).start()
        ready.wait(120)             # said once the port listens and the worker runs
        assert ready.is_set() and self.running(), f"server did not start: see {self.log}"
        return self.process.pid

    def _log(self, stderr: IO[bytes], ready: threading.Event) -> None:
        with open(self.log, "ab") as log:
            for line in stderr:
                log.write(line)
                log.flush()
                if line.startswith(b"predbot: serving email"):
                    ready.set()
        ready.set()                 # it exited: start() checks whether it runs

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 30) -> float:
        """SIGTERM, and how many seconds the server took to exit (it must exit 0 within `timeout`)."""
        began = time.monotonic()
        self.process.terminate()
        assert self.process.wait(timeout) == 0
        return time.monotonic() - began

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def server(demo_dir: Path, tmp_path: Path, port: int, sink: Sink) -> Server:
    """A server for `demo_dir`'s models on `port`, spooling in tmp_path/spool, replying through `sink`, with a store
    of its own in tmp_path: a server on another's store is another host of that deployment, and would leave a
    Message-ID the other answered unanswered."""
    return Server(demo_dir, ["--smtp-port", str(port), "--spool", str(tmp_path / "spool"),
                   "--store", f"sqlite:///{tmp_path / 'predbot.db'}",
                   "--relay-host", "127.0.0.1", "--relay-port", str(sink.port), "--rate-limit", "0",
                   "--relay-backoff", "0.05"], tmp_path / "server.log")


class Clients:
    """Threads that send one mail per id, each until the server says 250, resending when cut off."""

    def __init__(self, port: int, ids: list[str], threads: int) -> None:
        self.port = port
        self.up = threading.Event()                 # cleared while the server is down
        self.accepted: dict[str, float] = {}        # id -> time.monotonic() of its 250
        self.resends = 0
        self.changed = threading.Condition()
        self.threads = [threading.Thread(target=self.send, args=(ids[n::threads],)) for n in range(threads)]

    def start(self) -> None:
        self.up.set()
        for thread in self.threads:
            thread.start()

    def send(self, ids: list[str]) -> None:
        for message_id in ids:
            raw = shapes.plain(f"predict: age={20 + len(message_id) % 60}, income=60000", message_id=message_id)
            while True:
                self.up.wait(60)
                try:
                    send(self.port, raw)
                    with self.changed:
                        self.accepted[message_id] = time.monotonic()
                        self.changed.notify_all()
                    break
                except (OSError, smtplib.SMTPException):
                    with self.changed:
                        self.resends += 1      # the transaction broke off: send the same mail again

    def join(self, timeout: float) -> None:
        self.up.set()
        for thread in self.threads:
            thread.join(timeout)


@dataclass
class Outcome:
    """What the sink received for the mail sent, and what happened on the way."""

    ids: list[str]
    clients: Clients
    received: list[Received]
    moments: list[str]                  # what the spool and the sink held at each kill

    @cached_property
    def replies(self) -> dict[str, list[Received]]:
        """What the sink received, by the Message-ID each reply answers."""
        found = defaultdict(list)
        for received in self.received:
            found[received.in_reply_to].append(received)
        return found

    @property
    def answered(self) -> int:
        return sum(1 for message_id in self.ids if message_id in self.replies)

    @property
    def duplicated(self) -> int:
        return len(self.received) - self.answered

    @property
    def set_aside(self) -> int:
        """Mail answered with the set-aside notice (a kill -9 twice while it was being answered)."""
        return sum(1 for copies in self.replies.values() if SET_ASIDE in reply_text(copies[0]))

    def latencies(self) -> list[float]:
        """Seconds from each mail's 250 to its reply at the relay (0 when the reply came first: a copy the
        server kept before it was killed and the client resent)."""
        replies = self.replies
        return [max(0.0, replies[i][0].at - self.clients.accepted[i]) for i in self.ids if i in replies]

    def check(self, kills: int) -> None:
        """Every mail answered once; a second copy only in the one window SMTP allows, byte for byte."""
        replies = self.replies
        assert sorted(self.clients.accepted) == sorted(self.ids), "every mail is accepted"
        assert sorted(replies) == sorted(self.ids), "every accepted mail is answered"
        assert all(len({r.raw for r in copies}) == 1 for copies in replies.values()), \
            "no mail gets a second, different answer"
        # A kill after the relay has the reply but before we read its 250 leaves that one delivery in
        # doubt (RFC 1047); it is sent again, the very same bytes with the same Message-ID.
        assert self.duplicated <= kills


def run(server: Server, sink: Sink, spool: Path, mails: int, kills: list[Callable[[Clients], bool]],
        clients: int = 2, started: Callable[[int], None] = lambda pid: None) -> Outcome:
    """Send `mails` mails from `clients` threads, killing the server -9 and restarting it each time the
    next of `kills` comes true of the clients; leave it running, with every mail answered and the spool
    drained. `started` is told the pid of each server process as it comes up.
    """
    ids = [f"<crash{n}@client.test>" for n in range(mails)]
    senders = Clients(int(server.argv[server.argv.index("--smtp-port") + 1]), ids, clients)
    moments: list[str] = []
    started(server.start())
    senders.start()
    try:
        for moment in kills:
            wait_until(lambda moment=moment: moment(senders), 120)
            senders.up.clear()
            server.kill()
            moments.append(f"{len(senders.accepted)} accepted, {count(spool / 'incoming')} waiting, "
                           f"{count(spool / 'outgoing')} replies queued, {len(sink.received)} delivered")
            started(server.start())
            senders.up.set()
        senders.join(120)
        sink.wait_for(mails, timeout=120)
        wait_until(lambda: count(spool / "incoming") == count(spool / "outgoing") == 0, 60)
    except BaseException:
        senders.up.set()
        if server.running():
            server.kill()
        raise
    return Outcome(ids, senders, list(sink.received), moments)
