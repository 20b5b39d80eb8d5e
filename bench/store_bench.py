"""The store: predictions written per second on SQLite and on PostgreSQL, and the reply path with it on and off.

Writes: the entry the core records for the README example, recorded N times as fast as a caller can, then
flushed: entries per second from the first `record` to the end of the flush (one writer thread, batches of
up to 200), and what one `record` costs its caller. PostgreSQL is a real server started here as the tests
start theirs (tests/doubles/postgres.py), keeping its own fsync settings; SQLite is a WAL file in a scratch
directory.

Reply path: `Bot.handle` of the README example with a store and without, timed in turns so that both see
the same machine; p50, p99 and the ratio of the p50s (the target is at most 1.1x).

Shared state: what a Slack payload costs before its ack (recording its three delivery keys, `Shared.first`, then
holding it as owed, `Shared.hold`), what releasing it costs after the answer, and one rate-limit decision
(`Shared.admit`), each p50 and p99 over N payloads, one after another.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace

from bench.common import demo_registry, ms, percentile, scratch
from bot import memory
from bot.core import Bot
from bot.reply import Sender
from bot.store import Entry, Store, open_store
from tests.doubles.postgres import running_postgres

TEXT = "predict: age=45, income=60000, contract=month-to-month, support_calls=4"
SENDER = Sender.terminal("bench")


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--writes", type=int, default=5000)
    options.add_argument("--repeat", type=int, default=300)
    chosen = options.parse_args(argv)
    registry = demo_registry()
    example = recorded_entry(Bot(registry))
    with ExitStack() as stack:
        urls = {"sqlite": f"sqlite:///{scratch() / 'predbot.db'}",
                "postgresql": stack.enter_context(running_postgres(durable=True))}
        print(f"writes: {chosen.writes:,} entries of the README example each ({len(str(example.reply)):,} "
              "characters of reply)")
        print(f"{'':12} {'entries/s':>10} {'elapsed':>11}  record() on the caller: p50, p99")
        for name, url in urls.items():
            store = open_store(url)
            try:
                rate, elapsed, calls = writes(store, example, chosen.writes)
                print(f"{name:12} {rate:10,.0f} {ms(elapsed)}  {us(percentile(calls, 50))} {us(percentile(calls, 99))}"
                      f"   {store.stats}")
            finally:
                store.close()
        print(f"\nreply path: Bot.handle({TEXT!r}), {chosen.repeat} calls each, in turns")
        print(f"{'':26} {'p50':>11} {'p99':>11}  p50 / off")
        for name, url in urls.items():
            store = open_store(url)
            try:
                off, on = in_turns(Bot(registry), Bot(registry, store=store), chosen.repeat)
                store.flush(60)
            finally:
                store.close()
            base = percentile(off, 50)
            for label, samples in (("store off", off), (f"store on ({name})", on)):
                print(f"{label:26} {ms(percentile(samples, 50))} {ms(percentile(samples, 99))}"
                      f"  {percentile(samples, 50) / base:6.2f}x")
        print(f"\nshared state: {chosen.repeat} Slack payloads, one after another; p50, p99")
        print(f"{'':12} {'before the ack':>25} {'release':>25} {'admit':>25}")
        for name, url in urls.items():
            store = open_store(url)
            try:
                costs = decisions(store, chosen.repeat)
            finally:
                store.close()
            print(f"{name:12} " + " ".join(f"{ms(percentile(c, 50))} {ms(percentile(c, 99))}" for c in costs))


def us(seconds: float) -> str:
    return f"{seconds * 1e6:6.1f} µs"


def recorded_entry(bot: Bot) -> Entry:
    """What the core records for the example: its own `memory.entry` of a real answer."""
    answer = bot.handle(TEXT, SENDER)
    entry = memory.entry(answer, SENDER, TEXT, {"parse": 0.0, "score": 0.0, "total": 0.0})
    assert entry is not None, answer
    return entry


def writes(store: Store, example: Entry, count: int) -> tuple[float, float, list[float]]:
    """Entries per second from the first record to the flush, the seconds that took, each record's seconds."""
    entries = [replace(example, prediction_id=f"bench{n:07d}") for n in range(count)]
    calls = []
    start = time.perf_counter()
    for entry in entries:
        called = time.perf_counter()
        store.record(entry)
        calls.append(time.perf_counter() - called)
    assert store.flush(600), "the store did not write everything in 10 minutes"
    elapsed = time.perf_counter() - start
    return count / elapsed, elapsed, calls


def decisions(store: Store, count: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds per payload: first + hold (before its ack), release (after its answer), and one admit."""
    shared, payload = store.shared, {"type": "event_callback", "event": {"type": "app_mention", "text": TEXT}}
    before, after, admitted = [], [], []
    for n in range(count):
        start = time.perf_counter()
        assert shared.first([f"event:Ev{n}", f"message:C1:{n}", f"signature:{n}"], 3600)
        shared.hold(f"event:Ev{n}", payload, "bench", 30)
        held = time.perf_counter()
        shared.release(f"event:Ev{n}")
        released = time.perf_counter()
        shared.admit(f"slack:T1:U{n % 50}", 20, 60)
        before.append(held - start)
        after.append(released - held)
        admitted.append(time.perf_counter() - released)
    return before, after, admitted


def in_turns(off: Bot, on: Bot, repeat: int, warmup: int = 10) -> tuple[list[float], list[float]]:
    def timed(bot: Bot) -> Callable[[], float]:
        def once() -> float:
            start = time.perf_counter()
            bot.handle(TEXT, SENDER)
            return time.perf_counter() - start
        return once

    without, with_store = timed(off), timed(on)
    for _ in range(warmup):
        without(), with_store()
    samples: tuple[list[float], list[float]] = ([], [])
    for turn in range(repeat):          # each goes first every other turn: the second of a pair runs warmer
        if turn % 2:
            samples[1].append(with_store())
            samples[0].append(without())
        else:
            samples[0].append(without())
            samples[1].append(with_store())
    return samples


if __name__ == "__main__":
    main()
