"""What replicas decide together in the store, on SQLite and PostgreSQL: deliveries answered once, claims, rate
slots, and pending payloads taken over when their lease runs out; and that, asked at the same moment by many, each
decision has exactly one winner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from bot.store import Held, Shared, Store
from bot.store.tables import rate_slots

T = TypeVar("T")


class Clock:
    """A clock the test sets: seconds since the epoch, as `time.time` gives them."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.start = self.now = now

    def at(self, seconds: float) -> None:
        """The clock set to `seconds` after it started."""
        self.now = self.start + seconds

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def shared(store: Store, clock: Clock) -> Shared:
    return Shared(store.engine, clock=clock)


def at_once(count: int, work: Callable[[int], T]) -> list[T]:
    """`work(n)` for n in range(count), each in a thread of its own, all let go at the same moment; their results.
    Any thread's error fails the test."""
    results: list[T] = []
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(n: int) -> None:
        start.wait()
        try:
            results.append(work(n))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return results


def test_keys_are_new_the_first_time_only(store):
    assert store.shared.first(["event:E1"], 60)
    assert not store.shared.first(["event:E1"], 60)
    assert store.shared.first(["event:E2", "message:C7:1.1"], 60)
    assert not store.shared.first(["event:E3", "message:C7:1.1"], 60)     # a DM that mentions the bot: two events
    assert not store.shared.first(["event:E3"], 60)                       # recorded all the same
    assert store.shared.first(["signature:S", "signature:S"], 60)         # a key given twice counts once


def test_a_key_no_longer_remembered_is_new_again(shared, clock):
    assert shared.first(["event:E"], 60)
    clock.at(59)
    assert not shared.first(["event:E"], 60)                            # not extended: still remembered to 60
    clock.at(61)
    assert shared.first(["event:E"], 60)
    assert not shared.first(["event:E"], 60)


def test_a_claim_is_its_owners_until_it_runs_out(shared, clock):
    assert shared.claim("mail:<1@example.com>", "A", 60)
    assert not shared.claim("mail:<1@example.com>", "B", 60)
    clock.at(50)
    assert shared.claim("mail:<1@example.com>", "A", 60)                  # extended to 110
    clock.at(100)
    assert not shared.claim("mail:<1@example.com>", "B", 60)
    clock.at(111)
    assert shared.claim("mail:<1@example.com>", "B", 60)
    assert not shared.claim("mail:<1@example.com>", "A", 60)


def test_at_most_count_requests_are_admitted_in_any_period(shared, clock):
    assert shared.admit("U_ANN", 2, 60) == 0.0
    clock.at(30)
    assert shared.admit("U_ANN", 2, 60) == 0.0
    clock.at(40)
    assert shared.admit("U_ANN", 2, 60) == pytest.approx(20.0)          # until the first frees, at 60
    clock.at(61)
    assert shared.admit("U_ANN", 2, 60) == 0.0
    clock.at(62)
    assert shared.admit("U_ANN", 2, 60) == pytest.approx(28.0)          # the one of 30 frees at 90
    clock.at(90)
    assert shared.admit("U_ANN", 2, 60) == 0.0


def test_subjects_are_admitted_apart_and_a_count_of_zero_admits_everything(store, shared):
    assert [shared.admit("U_ANN", 1, 60), shared.admit("U_BOB", 1, 60)] == [0.0, 0.0]
    assert shared.admit("U_ANN", 1, 60) == pytest.approx(60.0)
    assert [shared.admit("U_EVE", 0, 60) for _ in range(5)] == [0.0] * 5
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(rate_slots).where(
            rate_slots.c.subject == "U_EVE")) == 0


def test_a_held_payload_is_taken_over_once_its_lease_runs_out_whole_and_counted(shared, clock):
    payload = {"event": {"text": "predict: age=45 — plan=Basic", "ts": "1.1"}, "numbers": [1, 2.5, None]}
    shared.hold("event:E", payload, "A", 30)
    shared.hold("event:E", {"other": True}, "B", 30)                    # held already: left as it is
    clock.at(29)
    assert shared.take_expired("B", 30) == []
    clock.at(31)
    assert shared.take_expired("B", 30) == [Held("event:E", payload, 1)]
    assert shared.take_expired("C", 30) == []                           # B's now, until 61
    clock.at(60)
    assert shared.take_expired("C", 30) == []
    clock.at(62)
    assert shared.take_expired("C", 30) == [Held("event:E", payload, 2)]


def test_the_oldest_expired_payloads_are_taken_first_up_to_the_limit(shared, clock):
    for n, key in enumerate(["event:E2", "event:E0", "event:E1"]):
        clock.at(n)
        shared.hold(key, {"n": n}, "A", 30)
    clock.at(100)
    assert [held.key for held in shared.take_expired("B", 30, limit=2)] == ["event:E2", "event:E0"]
    assert [held.key for held in shared.take_expired("B", 30, limit=2)] == ["event:E1"]


def test_renewing_extends_only_the_owners_leases(shared, clock):
    shared.hold("event:A1", {}, "A", 30)
    shared.hold("event:A2", {}, "A", 30)
    shared.hold("event:B1", {}, "B", 30)
    clock.at(20)
    assert shared.renew("A", 30) == 2
    assert shared.renew("NOBODY", 30) == 0
    clock.at(31)
    assert [held.key for held in shared.take_expired("C", 30)] == ["event:B1"]
    clock.at(51)
    assert sorted(held.key for held in shared.take_expired("C", 30)) == ["event:A1", "event:A2"]


def test_a_released_payload_is_gone(shared, clock):
    shared.hold("event:E", {"answered": False}, "A", 30)
    shared.release("event:E")
    shared.release("event:never-held")
    clock.at(100)
    assert shared.take_expired("B", 30) == []
    shared.hold("event:E", {"again": True}, "A", 30)                   # a key released can be held anew
    clock.at(200)
    assert shared.take_expired("B", 30) == [Held("event:E", {"again": True}, 1)]


def test_pruning_forgets_only_what_ran_out_and_changes_no_decision(shared, clock):
    assert shared.first(["event:short"], 10) and shared.first(["event:long"], 100)
    assert shared.claim("mail:<1@example.com>", "A", 100)
    assert shared.admit("U_ANN", 1, 10) == 0.0 and shared.admit("U_BOB", 1, 100) == 0.0
    clock.at(10)
    assert shared.prune() == 1                                          # the slot; "event:short" is kept to 10
    clock.at(20)
    assert shared.prune() == 1
    assert shared.prune() == 0
    assert not shared.first(["event:long"], 100)
    assert not shared.claim("mail:<1@example.com>", "B", 100)
    assert shared.admit("U_BOB", 1, 100) == pytest.approx(80.0)
    assert shared.first(["event:short"], 10) and shared.admit("U_ANN", 1, 10) == 0.0


def test_of_many_recording_one_delivery_at_once_exactly_one_finds_it_new(store):
    orders = [["event:E", "message:C7:1.1"], ["message:C7:1.1", "event:E"]]     # each order, to risk a deadlock
    new = at_once(8, lambda n: Shared(store.engine).first(orders[n % 2], 60))
    assert sorted(new) == [False] * 7 + [True]


def test_of_many_claiming_one_key_at_once_exactly_one_gets_it(store):
    claimed = at_once(8, lambda n: Shared(store.engine).claim("mail:<1@example.com>", f"owner-{n}", 60))
    assert sorted(claimed) == [False] * 7 + [True]


def test_of_many_asking_at_once_exactly_count_are_admitted(store):
    waits = at_once(10, lambda n: Shared(store.engine).admit("U_ANN", 3, 60))
    assert len([wait for wait in waits if wait == 0.0]) == 3
    assert all(0 < wait <= 60 for wait in waits if wait != 0.0), waits


def test_of_many_taking_over_at_once_each_payload_is_taken_exactly_once(store, clock):
    keys = [f"event:E{n}" for n in range(20)]
    for key in keys:
        Shared(store.engine, clock=clock).hold(key, {"key": key}, "gone", 30)
    later = Clock(clock.start + 100)
    taken = at_once(6, lambda n: Shared(store.engine, clock=later).take_expired(f"owner-{n}", 1000, limit=20))
    held = [one for each in taken for one in each]
    assert sorted(one.key for one in held) == sorted(keys)
    assert all(one.payload == {"key": one.key} and one.attempts == 1 for one in held)


def test_first_held_holds_a_new_delivery_and_nothing_for_a_repeat(store):
    shared = store.shared
    assert shared.first_held(["event:E1", "signature:s1"], 60, "event:E1", {"n": 1}, "a", lease=0.0)
    assert not shared.first_held(["event:E1", "signature:s2"], 60, "event:E1", {"n": 2}, "b", lease=0.0)
    assert [(held.key, held.payload) for held in shared.take_expired("c", lease=30)] == [("event:E1", {"n": 1})]
