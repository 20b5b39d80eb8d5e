"""What replicas of predbot decide together, in the store: which deliveries are answered, who may be answered
now, and which acknowledged Slack answers are still owed.

Every decision is one atomic statement on a unique key (an insert that does
nothing on a conflict, or an upsert whose update has a condition), never a
read followed by a write, so two processes asking at the same moment get
different answers: exactly one wins. Times are seconds since the epoch from
`clock` (every replica's clock is assumed to agree to well within a lease).

claims      a key per delivery seen (a Slack event, message, signature; a mail's Message-ID), with who claimed
            it and until when it is remembered
rate_slots  `count` slots per rate-limited subject, each busy until a time: a request is admitted by taking a
            free slot, so at most `count` are admitted in any `period` (a sliding window)
pending     Slack payloads acknowledged and not yet answered, each leased to the process working on it; a lease
            that runs out (the process died) lets another process take the payload over
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Insert, Table, delete, func, or_, select, update

from bot.store.engine import writing
from bot.store.tables import claims, pending, rate_slots

SOONEST = 0.001     # the least wait `admit` answers with: a refusal never reads as admitted
COUNTED = {"preserve_rowcount": True}   # an upsert's rowcount (SQLAlchemy keeps it for UPDATE and DELETE only)


@dataclass(frozen=True)
class Held:
    """A pending payload taken over from a lease that ran out."""

    key: str
    payload: dict[str, Any]
    attempts: int           # how many times it has been taken, by anyone, this time included


class Shared:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine, self.clock = engine, clock
        # the engine's dialect's INSERT, which has ON CONFLICT (its module is loaded already, with the engine)
        self.insert: Callable[[Table], Insert] = import_module(f"sqlalchemy.dialects.{engine.dialect.name}").insert

    def first(self, keys: Sequence[str], keep: float) -> bool:
        """Record `keys` (each remembered for `keep` seconds); True when none of them was recorded before and is
        still remembered. The keys are recorded either way, in one transaction.

        The keys go in sorted, so two transactions recording some of the same keys on PostgreSQL lock them in one
        order and never deadlock; a key given twice counts once."""
        with writing(self.engine) as connection:
            return self._first(connection, keys, self.clock(), keep)

    def first_held(self, keys: Sequence[str], keep: float, key: str, payload: dict[str, Any], owner: str,
                   lease: float) -> bool:
        """`first(keys, keep)` and, when it is True, `hold(key, payload, owner, lease)`, in one transaction: all a
        Slack payload costs the store before its ack."""
        with writing(self.engine) as connection:
            now = self.clock()
            new = self._first(connection, keys, now, keep)
            if new:
                self._hold(connection, key, payload, owner, now, lease)
        return new

    def _first(self, connection: Connection, keys: Sequence[str], now: float, keep: float) -> bool:
        # a list, not a generator: every key is recorded, also after one that was seen
        return all([self._remember(connection, key, "", now, keep, claims.c.until < now) for key in sorted(set(keys))])

    def claim(self, key: str, owner: str, keep: float) -> bool:
        """Claim `key` for `owner` for `keep` seconds; True when it was free (never claimed, or the claim ran out)
        or is already `owner`'s (its claim is then extended)."""
        with writing(self.engine) as connection:
            now = self.clock()
            return self._remember(connection, key, owner, now, keep, or_(claims.c.until < now, claims.c.owner == owner))

    def _remember(self, connection: Connection, key: str, owner: str, now: float, keep: float,
                  free: ColumnElement[bool]) -> bool:
        """Insert the claim, or take over the one there when `free` holds for it; whether either happened."""
        statement = self.insert(claims).values(key=key, owner=owner, until=now + keep)
        statement = statement.on_conflict_do_update(index_elements=[claims.c.key], where=free,
                                                    set_={"owner": statement.excluded.owner,
                                                          "until": statement.excluded.until})
        return connection.execute(statement, execution_options=COUNTED).rowcount == 1

    def admit(self, subject: str, count: int, period: float) -> float:
        """Admit one more request of `subject` if fewer than `count` were admitted in the last `period` seconds:
        0.0 when admitted (and counted), else the seconds until one would be. `count` 0 admits everything.

        A free slot is taken by an upsert that only takes it while it is still free: a slot another process takes
        first (PostgreSQL lets the second upsert wait for the first to commit) is passed over for the next.
        Slots are tried in order, so on PostgreSQL two transactions lock them in one order and never deadlock."""
        if count <= 0:
            return 0.0
        mine = (rate_slots.c.subject == subject) & (rate_slots.c.slot < count)
        with writing(self.engine) as connection:
            now = self.clock()
            busy = set(connection.scalars(select(rate_slots.c.slot).where(mine, rate_slots.c.until > now)))
            for slot in (slot for slot in range(count) if slot not in busy):
                statement = self.insert(rate_slots).values(subject=subject, slot=slot, until=now + period)
                statement = statement.on_conflict_do_update(
                    index_elements=[rate_slots.c.subject, rate_slots.c.slot], where=rate_slots.c.until <= now,
                    set_={"until": statement.excluded.until})
                if connection.execute(statement, execution_options=COUNTED).rowcount == 1:
                    return 0.0
            frees = connection.scalar(select(func.min(rate_slots.c.until)).where(mine, rate_slots.c.until > now))
        return max(frees - self.clock(), SOONEST) if frees is not None else SOONEST

    def hold(self, key: str, payload: dict[str, Any], owner: str, lease: float) -> None:
        """Keep `payload` as pending under `key`, leased to `owner` for `lease` seconds (a key held already is
        left as it is)."""
        with writing(self.engine) as connection:
            self._hold(connection, key, payload, owner, self.clock(), lease)

    def _hold(self, connection: Connection, key: str, payload: dict[str, Any], owner: str, now: float,
              lease: float) -> None:
        connection.execute(self.insert(pending).on_conflict_do_nothing().values(
            key=key, payload=payload, owner=owner, lease_until=now + lease, at=now, attempts=0))

    def renew(self, owner: str, lease: float) -> int:
        """Extend every lease `owner` holds to `lease` seconds from now; how many."""
        with writing(self.engine) as connection:
            return connection.execute(update(pending).where(pending.c.owner == owner)
                                      .values(lease_until=self.clock() + lease)).rowcount

    def release(self, key: str) -> None:
        """The pending payload is answered (or given up): forget it."""
        with writing(self.engine) as connection:
            connection.execute(delete(pending).where(pending.c.key == key))

    def take_expired(self, owner: str, lease: float, limit: int = 10) -> list[Held]:
        """Take over, for `owner`, up to `limit` pending payloads whose lease ran out, oldest first, leasing each for
        `lease` seconds and counting the attempt; a payload whose lease another process renews or takes at the
        same moment is not taken.

        Each is taken in a transaction of its own, by an update that takes it only while its lease is still out,
        so no process holds one payload's lock while waiting for another's (as a `renew` does, in its own order)."""
        now = self.clock()
        with self.engine.connect() as connection:
            keys = connection.scalars(select(pending.c.key).where(pending.c.lease_until < now)
                                      .order_by(pending.c.at, pending.c.key).limit(limit)).all()
        taken = []
        for key in keys:
            with writing(self.engine) as connection:
                row = connection.execute(
                    update(pending).where(pending.c.key == key, pending.c.lease_until < now)
                    .values(owner=owner, lease_until=now + lease, attempts=pending.c.attempts + 1)
                    .returning(pending.c.payload, pending.c.attempts)).one_or_none()
            if row is not None:
                taken.append(Held(key, row.payload, row.attempts))
        return taken

    def prune(self) -> int:
        """Forget claims and rate slots that ran out; how many rows went. Decisions never depend on it."""
        with writing(self.engine) as connection:
            now = self.clock()
            return (connection.execute(delete(claims).where(claims.c.until < now)).rowcount
                    + connection.execute(delete(rate_slots).where(rate_slots.c.until <= now)).rowcount)
