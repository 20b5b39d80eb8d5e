"""500 mails with kill -9 restarts of the mail server: every mail answered once, and the figures.

The machinery of tests/mail/test_mail_crash.py (crashing.py), at eight times
the mail and a dozen kills. Each kill comes a random number of mails after
the restart before it, counted as mail accepted (so it falls in the SMTP
stage) or as replies made (the answering and delivery stages). A reply the
relay took just as the server died may come twice, byte for byte the same:
the one duplicate window SMTP allows, at most one per kill. The clients send
as fast as the server takes mail, so the time from a mail's 250 to its reply
is mostly time spent queued behind the mail before it.
"""

from __future__ import annotations

import random
import socket
import statistics
from collections.abc import Callable
from pathlib import Path

import figures
import pytest

import crashing
from crashing import Clients, count

from doubles.mail import Sink

MAILS, KILLS, CLIENTS = 500, 12, 4


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def after(gap: int, stage: str, spool: Path) -> Callable[[Clients], bool]:
    """A kill moment: `gap` more mails past `stage` ("accepted" or "answered") than when first asked,
    which is just after the restart before it. Once every mail is in, replies made are counted, and
    once every reply is made, the kill comes at once."""
    first: dict[str, int] = {}

    def moment(clients: Clients) -> bool:
        counts = {"accepted": len(clients.accepted), "answered": count(spool / "outgoing") + count(spool / "sent")}
        counted = stage if counts["accepted"] < MAILS else "answered"
        first.setdefault(counted, counts[counted])
        return counts[counted] >= min(first[counted] + gap, MAILS)

    return moment


@pytest.mark.stress
@pytest.mark.timeout(1800)
def test_500_mails_with_kill_9_restarts_are_each_answered_once(demo_dir, tmp_path):
    rng = random.Random(500)
    spool = tmp_path / "spool"
    sink = Sink()
    server = crashing.server(demo_dir, tmp_path, free_port(), sink)
    rss: list[float] = []
    try:
        moments = [after(rng.randint(5, 30), rng.choice(["accepted", "answered"]), spool) for _ in range(KILLS)]
        outcome = crashing.run(server, sink, spool, MAILS, moments, clients=CLIENTS,
                               started=lambda pid: rss.append(figures.rss_mb(pid)))
        rss_after = figures.rss_mb(server.process.pid)
        stop_seconds = server.stop()
    finally:
        if server.running():
            server.kill()
        sink.close()
    outcome.check(kills=KILLS)
    assert outcome.set_aside <= KILLS // 2 and count(spool / "dead") == 0
    figures.report("mail kill -9", inputs=MAILS, kills=KILLS, accepted=len(outcome.clients.accepted),
                   answered=outcome.answered, duplicated=outcome.duplicated, set_aside=outcome.set_aside,
                   resends=outcome.clients.resends, p50_ms=statistics.median(outcome.latencies()) * 1000,
                   p99_ms=figures.p99_ms(outcome.latencies()),
                   rss_before_mb=rss[0], rss_after_mb=rss_after, stop_s=stop_seconds)
