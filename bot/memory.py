"""Predictions remembered: what the core records of each answer with an id, and its answers to `history`, `show`
and `feedback`, read back from the store.

Recording never waits: the store queues each Entry and writes it on a thread of its own. So that `show` finds an
answer given a moment ago, the three commands first give the store up to FLUSH_SECONDS to write what it holds.
A prediction is seen, and given feedback, by whoever asked it and by anyone where it was answered (the Slack
channel, the mail thread, the terminal); anyone else, and an id the store does not hold, gets a refusal that says
so. Feedback is checked against what was predicted: a class of the model for a classifier, a number for a
regressor, and the store keeps the class as the model spells it, so that live accuracy compares like with like.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import parser
from bot import reply
from bot.store.entry import Accuracy, Entry, EntryRow, Recorded
from scoring.problems import listing, shorten

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0         # for what was just recorded to be written before it is read
HISTORY_SHOWN = 10          # `history` without a number
HISTORY_MOST = 50
SAID_CHARS = 100            # of a value echoed back in a refusal
NO_MEMORY = ("predbot keeps no history here, so it cannot list, show or take feedback on predictions. "
             "The bot's owner can give it a store to keep them in (README: Memory).")


def entry(answer: reply.Reply, sender: reply.Sender, text: str, timings: dict[str, float]) -> Entry | None:
    """What the store keeps of an answer: predictions and what-ifs, the answers whose id can be asked about."""
    body = answer.body
    if answer.prediction_id is None or not isinstance(body, reply.Prediction | reply.WhatIf):
        return None
    rows = body.rows if isinstance(body, reply.Prediction) else (body.before, body.after)
    return Entry(prediction_id=answer.prediction_id, at=datetime.now(UTC), channel=sender.medium,
                 workspace=sender.workspace, conversation=sender.conversation, thread=sender.thread,
                 sender=sender.id, text=text, model=answer.model or "", version=answer.version or "",
                 kind="prediction" if isinstance(body, reply.Prediction) else "whatif", reply=answer.to_dict(),
                 rows=tuple(entry_row(index, row) for index, row in enumerate(rows)), timings=timings)


def entry_row(index: int, row: reply.Row) -> EntryRow:
    return EntryRow(index, row.inputs, row.prediction, row.value, dict(row.probabilities),
                    tuple(asdict(driver) for driver in row.drivers), row.base_value, row.drivers_for or None,
                    row.warnings, row.reason)


def recall(store: Store | None, command: parser.History | parser.Show | parser.Feedback, sender: reply.Sender,
           models: tuple[str, ...]) -> reply.Reply:
    """`history`, `show` and `feedback`: what the store remembers, as `sender` may see it. `models` are the names
    served, so `history 5 Churn` lists churn's; a model no longer served may still have predictions to list."""
    if store is None:
        return reply.Reply.refused(NO_MEMORY, "no_memory")
    match command:
        case parser.History(model=name):
            spelt = next((known for known in models if name and known.lower() == name.lower()), name)
            return history(store, command, sender, spelt)
        case parser.Show():
            return show(store, command, sender)
    return feedback(store, command, sender)


def history(store: Store, command: parser.History, sender: reply.Sender, model: str | None) -> reply.Reply:
    """The sender's own last predictions (of `model`, as the registry spells it), newest first."""
    wanted = HISTORY_SHOWN if command.count is None else command.count
    if wanted < 1:
        return reply.Reply.refused(f"`history N` lists your last N predictions, 1 to {HISTORY_MOST}: "
                                   "`history 5`.", "no_count")
    store.flush(FLUSH_SECONDS)
    past = [found for found in store.history(sender.id, min(wanted, HISTORY_MOST), model)
            if may_see(found.entry, sender)]
    return reply.Reply(reply.Status.OK, reply.History(tuple(remembered(found) for found in past), model, wanted,
                                                      HISTORY_MOST))


def show(store: Store, command: parser.Show, sender: reply.Sender) -> reply.Reply:
    """The answer again, as it was given, with when it was asked and what feedback said since."""
    found = look_up(store, command.prediction_id, sender)
    if isinstance(found, reply.Reply):
        return found
    kept = found.entry
    return reply.Reply(reply.Status(kept.reply["status"]), remembered(found), kept.model, kept.version,
                       kept.prediction_id)


def feedback(store: Store, command: parser.Feedback, sender: reply.Sender) -> reply.Reply:
    """Keep what a row of a prediction really was, once it is sure to mean a class (or a number) of its model."""
    found = look_up(store, command.prediction_id, sender)
    if isinstance(found, reply.Reply):
        return found
    kept = found.entry
    if problem := feedback_refusal(kept, command):
        return reply.Reply.refused(problem, "bad_feedback")
    row = kept.rows[command.row - 1]
    actual = actual_of(kept, command, row)
    if isinstance(actual, reply.Reply):
        return actual
    store.add_feedback(kept.prediction_id, row.index, actual, sender.id)
    right, off_by = (None, float(actual) - row.value) if row.value is not None else (actual == row.prediction, None)
    version = next((a for a in store.accuracy(kept.model) if a.version == kept.version), None)
    noted = reply.Noted(kept.prediction_id, command.row, len(kept.rows), actual, row.prediction or "", right, off_by,
                        live_accuracy(version) if version else None)
    return reply.Reply(reply.Status.OK, noted, kept.model, kept.version, kept.prediction_id)


def feedback_refusal(kept: Entry, command: parser.Feedback) -> str | None:
    """Why there is nothing to give feedback on at that row; None when there is."""
    if kept.kind != "prediction":
        return (f"{kept.prediction_id} is a what-if, whose second row is made up to compare: give feedback on a "
                "prediction of the row as it really was.")
    if not 1 <= command.row <= len(kept.rows):
        rows = "one row" if len(kept.rows) == 1 else f"rows 1 to {len(kept.rows)}"
        return f"Prediction {kept.prediction_id} has {rows}; there is no row {command.row}."
    if (row := kept.rows[command.row - 1]).prediction is None:
        return (f"Row {command.row} of {kept.prediction_id} was not predicted, so there is nothing to compare with "
                f"what happened. ({row.reason})")
    return None


def actual_of(kept: Entry, command: parser.Feedback, row: EntryRow) -> str | reply.Reply:
    """What the row really was, as the store keeps it: a class as the model spells it, or a number; or a refusal
    that says what it can be, with the command to give."""
    said, classes = command.actual, tuple(row.probabilities)
    command_shown = f"`{parser.feedback_text(kept.prediction_id, command.row, example_of(row))}`"
    if said is None or said.kind == "missing":
        what = "the number it really was" if row.value is not None else f"what it really was ({listing(classes)})"
        return reply.Reply.refused(f"Say {what}: {command_shown}", "no_actual")
    if row.value is not None:
        if said.kind == "number" and finite(said.value):
            return str(said.value)
        return reply.Reply.refused(f"{kept.model} predicts a number, so say what it really was as one: "
                                   f"{command_shown}", "not_a_number")
    spellings = {said.raw.casefold(), str(said.value).casefold()}          # `yes` and True; "1" and 1
    label = next((c for c in classes if c.casefold() in spellings), None if classes else str(said.value))
    if label is None:
        return reply.Reply.refused(f"{shorten(said.raw, SAID_CHARS)} is not a class of {kept.model}, which predicts "
                                   f"{listing(classes)}: {command_shown}", "unknown_class")
    return label


def example_of(row: EntryRow) -> str | float:
    """A value for the command a refusal shows: the predicted number, or a class other than the predicted one."""
    if row.value is not None:
        return row.value
    return next((c for c in row.probabilities if c != row.prediction), row.prediction or "VALUE")


def finite(number: int | float) -> bool:
    """Can the store compare it with a prediction? Not 1e400, nor a whole number of 400 digits."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def live(store: Store | None, model: str) -> tuple[reply.LiveAccuracy, ...]:
    """The model's live accuracy per version, newest first; none without a store, or when it cannot say, as
    `models` and `explain` are better answered without it than not at all (the log says why)."""
    if store is None:
        return ()
    try:
        return tuple(live_accuracy(version) for version in store.accuracy(model))
    except Exception:  # noqa: BLE001 - logged with its traceback; the answer goes out without live accuracy
        log.exception("could not read the live accuracy of %s", model)
        return ()


def live_accuracy(version: Accuracy) -> reply.LiveAccuracy:
    return reply.LiveAccuracy(version.version, version.count, version.accuracy, version.mean_absolute_error)


def look_up(store: Store, prediction_id: str, sender: reply.Sender) -> Recorded | reply.Reply:
    """The prediction, if the store holds it and the sender may see it; else a refusal that says which."""
    store.flush(FLUSH_SECONDS)
    found = store.prediction(prediction_id)
    if found is None:
        return reply.Reply.refused(f"I have no prediction with id {prediction_id}. `history` lists yours, with "
                                   "their ids.", "unknown_id")
    if not may_see(found.entry, sender):
        return reply.Reply.refused(f"Prediction {prediction_id} was asked by someone else, somewhere else: only its "
                                   "asker, and the people where it was answered, can see it or give feedback on it.",
                                   "not_yours")
    return found


def may_see(kept: Entry, sender: reply.Sender) -> bool:
    """Its asker may, and so may anyone in the conversation it was answered in."""
    asker = (kept.channel, kept.sender) == (sender.medium, sender.id)
    where = (kept.channel, kept.workspace, kept.conversation) == (sender.medium, sender.workspace,
                                                                  sender.conversation)
    return asker or (bool(kept.conversation) and where)


def remembered(found: Recorded) -> reply.Remembered:
    kept = found.entry
    latest = {row: actual for row, actual, _, _ in found.feedback}         # oldest first: the last word counts
    return reply.Remembered(kept.prediction_id, utc(kept.at).isoformat(timespec="seconds"), kept.text, kept.model,
                            kept.version, reply.Reply.from_dict(kept.reply).body,
                            tuple(reply.Outcome(row + 1, actual) for row, actual in sorted(latest.items())))


def utc(at: datetime) -> datetime:
    """SQLite gives back the time without its zone; the store writes UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
