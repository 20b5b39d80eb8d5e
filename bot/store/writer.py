"""Recording off the reply's path: a bounded queue and one daemon thread that writes it in batches.

`put` never blocks and never raises, so a slow or failing store cannot delay
or break a reply. What the writer cannot write it retries with doubling
backoff; a batch that still fails is written entry by entry, so that one
entry the database refuses does not take the others with it. Nothing is
lost without a word: an entry pushed out of a full queue, given up after
its retries, or still waiting when the store closes is logged by its
prediction id and counted in `stats`:

    recorded    entries written
    retried     writes tried again after a failure
    dropped     entries pushed out of the full queue (the oldest go first), or recorded after close
    failed      entries given up on: every retry failed, or the store closed first
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.store.entry import Entry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    capacity: int = 10_000      # entries waiting, a few KB each
    batch: int = 200            # entries written in one transaction
    attempts: int = 8           # writes of a batch before it is written entry by entry
    backoff: float = 0.1        # seconds before the first retry, doubling: 8 attempts span about 11 s
    max_backoff: float = 5.0


LIMITS = Limits()


class Writer:
    def __init__(self, write: Callable[[Sequence[Entry]], None], limits: Limits = LIMITS,
                 name: str = "store-writer") -> None:
        self.write, self.limits = write, limits
        self.stats = {"recorded": 0, "retried": 0, "dropped": 0, "failed": 0}
        self.pending: deque[Entry] = deque()
        self.changed = threading.Condition()
        self.queued = self.settled = 0      # entries put so far, and those written, dropped or given up
        self.closing = False
        self.thread = threading.Thread(target=self.run, name=name, daemon=True)
        self.thread.start()

    def put(self, entry: Entry) -> None:
        with self.changed:
            if self.closing:
                self.count("dropped", [entry], "recorded after the store closed")
                return
            if len(self.pending) >= self.limits.capacity:
                self.settle("dropped", [self.pending.popleft()],
                            f"pushed out of the store's full queue ({self.limits.capacity:,} waiting)")
            self.pending.append(entry)
            self.queued += 1
            self.changed.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until everything put before this call is written or given up; False if `timeout` came first."""
        with self.changed:
            target = self.queued
            return self.changed.wait_for(lambda: self.settled >= target, timeout)

    def close(self, timeout: float) -> None:
        """Flush for up to `timeout`, then stop: what is still waiting is logged and counted as failed."""
        deadline = time.monotonic() + timeout
        self.flush(timeout)
        with self.changed:
            self.closing = True
            self.changed.notify_all()
        self.thread.join(max(0.1, deadline - time.monotonic()))   # a write under way finishes, then logs itself
        with self.changed:
            left = list(self.pending)
            self.pending.clear()
            if left:
                self.settle("failed", left, "still waiting when the store closed")

    def snapshot(self) -> dict[str, int]:
        with self.changed:
            return dict(self.stats)

    def waiting(self) -> int:
        with self.changed:
            return len(self.pending)

    def run(self) -> None:
        while batch := self.next_batch():
            self.write_or_give_up(batch)

    def next_batch(self) -> list[Entry]:
        """The oldest waiting entries, up to a batch; none once the store closes."""
        with self.changed:
            self.changed.wait_for(lambda: self.pending or self.closing)
            if self.closing:
                return []
            return [self.pending.popleft() for _ in range(min(self.limits.batch, len(self.pending)))]

    def write_or_give_up(self, batch: list[Entry]) -> None:
        error = self.retried(batch)
        if error is None:
            self.done("recorded", batch)
        elif len(batch) == 1 or self.closing:
            self.done("failed", batch, f"not written: {describe(error)}")
        else:
            for entry in batch:         # one entry the database refuses must not take the others with it
                self.write_alone(entry)

    def write_alone(self, entry: Entry) -> None:
        try:
            self.write([entry])
        except Exception as error:  # noqa: BLE001 - a store's failure never reaches a reply: logged, counted
            self.done("failed", [entry], f"not written: {describe(error)}")
        else:
            self.done("recorded", [entry])

    def retried(self, batch: list[Entry]) -> Exception | None:
        """Write `batch`, retrying with backoff; the last error if every attempt failed (or the store closed)."""
        delay = self.limits.backoff
        for attempt in range(1, self.limits.attempts + 1):
            try:
                self.write(batch)
                return None
            except Exception as error:  # noqa: BLE001 - a store's failure never reaches a reply: logged, counted
                if attempt == self.limits.attempts:
                    return error
                log.warning("the store could not write %d predictions (%s); trying again in %.1f s",
                            len(batch), describe(error), delay)
                with self.changed:
                    self.stats["retried"] += 1
                if self.stopping_within(delay):
                    return error
                delay = min(delay * 2, self.limits.max_backoff)
        return None

    def stopping_within(self, delay: float) -> bool:
        """Wait `delay` seconds before a retry; True, at once, if the store is closing."""
        with self.changed:
            return self.changed.wait_for(lambda: self.closing, delay)

    def done(self, outcome: str, entries: list[Entry], why: str = "") -> None:
        with self.changed:
            self.settle(outcome, entries, why)

    def settle(self, outcome: str, entries: list[Entry], why: str = "") -> None:
        """Count `entries` as dealt with (the lock held); those not recorded are logged with why."""
        self.count(outcome, entries, why)
        self.settled += len(entries)
        self.changed.notify_all()

    def count(self, outcome: str, entries: list[Entry], why: str) -> None:
        self.stats[outcome] += len(entries)
        if outcome != "recorded":
            log.error("%d predictions not recorded, %s: %s", len(entries), why,
                      ", ".join(entry.prediction_id for entry in entries))


def describe(error: Exception) -> str:
    """An error on one line, without SQLAlchemy's statement and parameters (they hold what people wrote)."""
    cause = getattr(error, "orig", None) or error
    return " ".join(f"{type(cause).__name__}: {cause}".split())[:300]
