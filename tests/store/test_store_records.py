"""What is recorded is read back whole: by id, in a sender's history, with feedback and accuracy, after a restart,
and from many writers at once."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from store_entries import churn_row, diabetes_row, entry, unpredicted_row

from bot.store import Accuracy, Store, UnknownRow, open_store
from bot.store.codec import TEXT_CHARS
from bot.store.tables import prediction_rows, predictions


def test_a_recorded_prediction_reads_back_with_every_field(store):
    recorded = entry(churn_row(0), unpredicted_row(1), churn_row(2, "stays"))
    store.record(recorded)
    assert store.flush()
    assert store.prediction(recorded.prediction_id).entry == recorded
    assert store.prediction(recorded.prediction_id).feedback == ()
    assert store.stats == {"recorded": 1, "retried": 0, "dropped": 0, "failed": 0}


def test_time_comes_back_in_utc_whatever_zone_it_was_given_in(store):
    given = datetime(2026, 12, 1, 10, 30, 15, 5, tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    store.record(entry(at=given, prediction_id="zoned"))
    assert store.flush()
    at = store.prediction("zoned").entry.at
    assert (at, at.tzinfo) == (datetime(2026, 12, 1, 10, 30, 15, 5, tzinfo=UTC), UTC)


def test_the_text_is_capped_and_what_postgresql_refuses_is_kept_readably(store):
    long = "predict: " + "age=45, " * 400
    store.record(entry(prediction_id="long", text=long))
    store.record(entry(replace(churn_row(), inputs="plan=\x00Basic", probabilities={"stays": float("nan")}),
                       prediction_id="odd"))
    assert store.flush()
    assert store.prediction("long").entry.text == long[:TEXT_CHARS]
    odd = store.prediction("odd").entry.rows[0]
    assert (odd.inputs, odd.probabilities) == ("plan=\ufffdBasic", {"stays": None})


def test_an_unknown_id_reads_as_none(store):
    assert store.prediction("nothing-here") is None


def test_history_is_the_senders_newest_first_up_to_the_limit_and_of_the_model_asked(store):
    ann = [entry(sender="U_ANN") for _ in range(4)]
    iris = entry(churn_row(), sender="U_ANN", model="iris")
    others = entry(sender="U_BOB")
    for recorded in (*ann, iris, others):
        store.record(recorded)
    assert store.flush()
    assert [r.entry for r in store.history("U_ANN")] == [iris, *reversed(ann)]
    assert [r.entry for r in store.history("U_ANN", limit=2)] == [iris, ann[-1]]
    assert [r.entry for r in store.history("U_ANN", model="churn")] == list(reversed(ann))
    assert store.history("U_NOBODY") == []


def test_feedback_is_kept_with_who_and_when_and_the_latest_per_row_counts(store):
    first, second = entry(churn_row(0), churn_row(1, "stays")), entry(churn_row(0, "stays"))
    store.record(first)
    store.record(second)
    assert store.flush()
    before = datetime.now(UTC)
    store.add_feedback(first.prediction_id, 0, "stays", "U_ANN")        # wrong: it said churns
    store.add_feedback(first.prediction_id, 0, "churns", "U_ANN")       # corrected: right after all
    store.add_feedback(first.prediction_id, 1, "stays", "U_BOB")        # right
    store.add_feedback(second.prediction_id, 0, "churns", "U_BOB")      # wrong
    reports = store.prediction(first.prediction_id).feedback
    assert [(row, actual, sender) for row, actual, sender, _ in reports] == [
        (0, "stays", "U_ANN"), (0, "churns", "U_ANN"), (1, "stays", "U_BOB")]
    assert all(before <= at <= datetime.now(UTC) and at.tzinfo == UTC for *_, at in reports)
    assert store.accuracy("churn") == [Accuracy("churn", "84d96f5ecf", 3, pytest.approx(2 / 3), None)]


def test_accuracy_is_per_version_newest_first_and_a_regressors_is_its_mean_absolute_error(store):
    old = entry(diabetes_row(0, 150.0), diabetes_row(1, 100.0), model="diabetes", version="old")
    new = entry(diabetes_row(0, 200.0), unpredicted_row(1), model="diabetes", version="new")
    unjudged = entry(diabetes_row(), model="diabetes", version="newest")
    for recorded in (old, new, unjudged):
        store.record(recorded)
    assert store.flush()
    store.add_feedback(old.prediction_id, 0, "160", "U_ANN")
    store.add_feedback(old.prediction_id, 1, "$95", "U_ANN")
    store.add_feedback(old.prediction_id, 1, "not a number", "U_ANN")  # the latest word: no error to count
    store.add_feedback(new.prediction_id, 0, "1.9e2", "U_ANN")
    store.add_feedback(new.prediction_id, 1, "120", "U_ANN")            # a row that was not predicted
    assert store.accuracy("diabetes") == [Accuracy("diabetes", "new", 1, None, pytest.approx(10.0)),
                                          Accuracy("diabetes", "old", 1, None, pytest.approx(10.0))]
    assert store.accuracy("iris") == []


@pytest.mark.parametrize("row", [0, 5])
def test_feedback_on_a_prediction_or_row_not_recorded_is_refused(store, row):
    recorded = entry(churn_row(0))
    store.record(recorded)
    assert store.flush()
    with pytest.raises(UnknownRow, match=f"no row {row} of prediction"):
        store.add_feedback(recorded.prediction_id if row else "nothing-here", row, "churns", "U_ANN")


def test_a_restarted_store_keeps_its_history(store_url):
    recorded = [entry(sender="U_ANN") for _ in range(3)]
    first = open_store(store_url)
    for one in recorded:
        first.record(one)
    first.close()                                   # close writes what is queued
    again = open_store(store_url)
    try:
        assert [r.entry for r in again.history("U_ANN")] == list(reversed(recorded))
    finally:
        again.close()


def test_many_writers_in_two_stores_on_one_database_lose_nothing(store_url):
    stores = [open_store(store_url), open_store(store_url)]
    per_thread, threads = 150, 6
    start = threading.Barrier(threads)

    def record(store: Store, sender: str) -> None:
        start.wait()
        for n in range(per_thread):
            store.record(entry(churn_row(0), churn_row(1), sender=sender,
                               at=datetime(2026, 12, 1, tzinfo=UTC) + timedelta(milliseconds=n)))

    writers = [threading.Thread(target=record, args=(stores[n % 2], f"U{n}")) for n in range(threads)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    try:
        assert all(store.flush(60) for store in stores)
        with stores[0].engine.connect() as connection:
            counted = [connection.execute(select(func.count()).select_from(table)).scalar()
                       for table in (predictions, prediction_rows)]
        assert counted == [threads * per_thread, 2 * threads * per_thread]
        assert sum(store.stats["recorded"] for store in stores) == threads * per_thread
        assert all(store.stats["failed"] + store.stats["dropped"] == 0 for store in stores)
        assert len(stores[1].history("U3", limit=1000)) == per_thread
    finally:
        for store in stores:
            store.close()


def test_an_id_recorded_twice_is_kept_once(store):
    recorded = entry()
    store.record(recorded)
    store.record(replace(recorded, sender="U_SOMEONE_ELSE"))       # a retry whose first write did land
    assert store.flush()
    assert store.prediction(recorded.prediction_id).entry == recorded
    assert store.stats["failed"] == 0


def test_the_last_prediction_of_a_conversation_is_its_newest_there_of_either_kind_and_only_there(store):
    older, newer = entry(prediction_id="older"), entry(diabetes_row(0), diabetes_row(1), kind="whatif",
                                                       prediction_id="newer", model="diabetes")
    elsewhere = replace(entry(prediction_id="elsewhere"), thread="1733045999.000200")
    for recorded in (older, newer, elsewhere):
        store.record(recorded)
    assert store.flush()
    assert store.last("slack", "T42", "C7", "1733045415.000100").entry == newer
    assert store.last("slack", "T42", "C7", "1733045999.000200").entry == elsewhere
    assert store.last("slack", "T42", "C7") is None                    # the channel itself, outside the threads
    assert store.last("email", "T42", "C7", "1733045415.000100") is None
    assert store.last("slack", "T9", "C7", "1733045415.000100") is None
