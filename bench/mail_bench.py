"""Email channel, end to end: SMTP in -> spool -> Bot -> reply captured at a relay sink.

    python -m bench.mail_bench [--mails 200] [--seconds 30]

Prints mails per second and p50/p99 latency (from the client's MAIL command to
the reply's arrival at the sink) at 1 and 20 concurrent senders with the
default --mail-workers, then at 20 with one worker (mail answered one at a
time, as before issue 13), and, measured in the same run (here, before any
server starts), bare `Bot.handle` per message, so the mail overhead shows as
a ratio; and the p99 at 20 senders beside its target. Each sender sends a
mail, waits for its reply, and sends the next over the same SMTP connection;
each level stops at --mails or --seconds, whichever comes first. The server
is `predbot serve` in its own process, as in production, started afresh for
each --mail-workers, relaying to a sink, without rate limit, and claiming
each mail in a SQLite store under a temporary directory, as one host of
several would. The clients (smtplib threads) and the sink share this
process, so their CPU time is not the server's, though all of them still
share the machine's cores.

Then a size ladder: one mail whose body is a single line of 1 KB to 1 MB (of
`a=1` words, of spaces, of unclosed HTML tags), time from MAIL to reply, so
that cost growing faster than size shows as a rising ms-per-KB column.
"""

from __future__ import annotations

import argparse
import itertools
import smtplib
import tempfile
import threading
import time
from email import policy
from email.message import EmailMessage

from bench import targets
from bench.servers import Server, predbot_serve
from bot.core import Bot
from bot.mail.settings import Settings
from doubles.mail import Sink
from scoring.demo import demo_models_dir
from scoring.registry import Registry

COMMAND = "predict: age=45, income=60000"
LINES = {"a=1 words": ("a=1 ", "plain"), "spaces": (" ", "plain"), "unclosed tags": ("<a ", "html")}
SIZES_KB = (1, 10, 100, 1000)
SENDERS = 20
TARGET_P99_MS = 300        # at SENDERS concurrent senders, with the default --mail-workers (issue 13)


def mail(number: int, body: str = COMMAND, subtype: str = "plain") -> tuple[str, bytes]:
    message = EmailMessage(policy=policy.SMTP)        # CRLF line ends: an SMTP server counts lines by them
    message_id = f"<bench{number}@client.test>"
    message["From"], message["To"], message["Subject"] = "ann@example.com", "predbot@localhost", "bench"
    message["Message-ID"] = message_id
    message.set_content(body, subtype=subtype)
    return message_id, message.as_bytes()


def ladder(port: int, sink: Sink, numbers: itertools.count) -> list[tuple[str, int, float]]:
    """(line kind, KB, seconds from MAIL to reply) for one single-line mail of each kind and size."""
    rows = []
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test") as client:
        for kind, (unit, subtype) in LINES.items():
            for kb in SIZES_KB:
                message_id, raw = mail(next(numbers), "x" + unit * (kb * 1024 // len(unit)) + "x", subtype)
                started = time.monotonic()
                client.sendmail("ann@example.com", ["predbot@localhost"], raw)
                rows.append((kind, kb, sink.reply_to(message_id, timeout=600).at - started))
    return rows


def bare_handle(bot: Bot, count: int) -> float:
    """Seconds per Bot.handle call for the benchmark's command."""
    started = time.perf_counter()
    for _ in range(count):
        bot.handle(COMMAND)
    return (time.perf_counter() - started) / count


def level(port: int, sink: Sink, numbers: itertools.count, senders: int, mails: int,
          seconds: float) -> tuple[int, float, list[float]]:
    """`senders` closed-loop senders, up to `mails` in all; (mails answered, seconds, latencies)."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    claimed = itertools.count()
    template = mail(0)[1]          # made once: the clients share this interpreter with each other and the sink

    def sender() -> None:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test") as client:
            while time.monotonic() < deadline and next(claimed) < mails:
                message_id = f"<bench{next(numbers)}@client.test>"
                raw = template.replace(b"<bench0@client.test>", message_id.encode())
                started = time.monotonic()
                client.sendmail("ann@example.com", ["predbot@localhost"], raw)
                answered = sink.reply_to(message_id, timeout=60).at
                with lock:
                    latencies.append(answered - started)

    begin = time.monotonic()
    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), time.monotonic() - begin, sorted(latencies)


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def serving(sink: Sink, data: str, workers: int) -> Server:
    """`predbot serve` answering mail with `workers` workers, relaying its replies to the sink."""
    return predbot_serve(data, "--relay-host", "127.0.0.1", "--relay-port", str(sink.port), "--rate-limit", "0",
                         "--mail-workers", str(workers), "--relay-backoff", "0.05")


def smtp_port(server: Server) -> int:
    """The port from serve's `serving email on HOST:PORT ...` line."""
    return int(server.after("serving email on ").rsplit(":", 1)[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=200, help="mails per concurrency level (default 200)")
    parser.add_argument("--seconds", type=float, default=30.0, help="time bound per level (default 30)")
    args = parser.parse_args(argv)

    registry = Registry(demo_models_dir())
    registry.refresh()
    bot = Bot(registry)
    bot.handle(COMMAND)                                       # load the model and its explainer once
    per_handle = bare_handle(bot, 50)
    sink = Sink()
    numbers = itertools.count(1)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as where:
            for workers, levels in ((Settings.workers, (1, SENDERS)), (1, (SENDERS,))):
                with serving(sink, f"{where}/workers-{workers}", workers) as service:
                    port = smtp_port(service)
                    level(port, sink, numbers, 1, 3, args.seconds)          # warm up the whole path
                    rows += [(workers, senders, *level(port, sink, numbers, senders, args.mails, args.seconds))
                             for senders in levels]
                    if workers == Settings.workers:
                        sizes = ladder(port, sink, numbers)
    finally:
        sink.close()

    print(f"bare Bot.handle: {per_handle * 1000:.1f} ms per message ({1 / per_handle:.0f}/s)")
    print(f"{'workers':>7}  {'senders':>7}  {'mails':>5}  {'mails/s':>7}  {'p50 ms':>7}  {'p99 ms':>7}  "
          f"{'p50 / handle':>12}  {'handle share of time':>20}")
    for workers, senders, count, elapsed, latencies in rows:
        rate = count / elapsed
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        print(f"{workers:>7}  {senders:>7}  {count:>5}  {rate:>7.1f}  {p50 * 1000:>7.1f}  {p99 * 1000:>7.1f}  "
              f"{p50 / per_handle:>11.1f}x  {per_handle * rate:>19.0%}")
    p99 = next(percentile(latencies, 0.99) for workers, senders, _, _, latencies in rows
               if (workers, senders) == (Settings.workers, SENDERS))
    print(f"{SENDERS} senders, --mail-workers {Settings.workers} (the default): p99 {p99 * 1000:.0f} ms, "
          f"target < {TARGET_P99_MS} ms: {'met' if p99 * 1000 < TARGET_P99_MS else 'NOT met'}")
    targets.report(f"mail, {SENDERS} concurrent senders, p99", f"{p99 * 1000:.0f} ms", f"< {TARGET_P99_MS} ms",
                   p99 * 1000 < TARGET_P99_MS)
    print(f"\n{'one line of':<14}  {'KB':>5}  {'mail to reply ms':>16}  {'ms per KB':>9}")
    for kind, kb, seconds in sizes:
        print(f"{kind:<14}  {kb:>5}  {seconds * 1000:>16.1f}  {seconds * 1000 / kb:>9.2f}")


if __name__ == "__main__":
    main()
