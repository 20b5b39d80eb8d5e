"""What the store keeps, as plain data: an answered prediction (Entry, its EntryRows), read back with its feedback
(Recorded), and a model version's live accuracy. The core builds Entries; nothing here touches a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class EntryRow:
    index: int                       # row number within the prediction, from 0
    inputs: str                      # the row as the user wrote it (reply.Row.inputs)
    prediction: str | None           # label or formatted value; None when not predicted
    value: float | None              # regressors' raw value
    probabilities: dict[str, float]
    drivers: tuple[dict, ...]        # {"feature", "value", "contribution", "direction"} as in Reply.to_dict()
    base_value: float | None
    drivers_for: str | None
    warnings: tuple[str, ...]
    reason: str | None               # why not predicted


@dataclass(frozen=True)
class Entry:
    prediction_id: str               # the id shown in the reply (Reply.prediction_id)
    at: datetime                     # timezone-aware UTC
    channel: str                     # "slack", "email", "terminal", "http"
    workspace: str                   # Slack team id, mail domain of the bot, "" otherwise
    conversation: str                # Slack channel id, the mail thread's root Message-ID, "terminal"
    thread: str                      # Slack thread_ts, "" when none
    sender: str                      # Slack user id, mail address, terminal user
    text: str                        # the command text, capped at TEXT_CHARS by the store
    model: str
    version: str
    kind: str                        # "prediction" or "whatif"
    reply: dict                      # Reply.to_dict(), for `show ID` to render it again
    rows: tuple[EntryRow, ...]
    timings: dict[str, float]        # seconds per stage: "parse", "score", "total" (what the core measured)


@dataclass(frozen=True)
class Recorded:
    entry: Entry
    feedback: tuple[tuple[int, str, str, datetime], ...]   # (row index, actual, sender, at), oldest first


@dataclass(frozen=True)
class Accuracy:
    model: str
    version: str
    count: int                       # predicted rows with feedback (the latest per row counts)
    accuracy: float | None           # classifiers: share whose prediction equals the actual label
    mean_absolute_error: float | None   # regressors: mean |actual - value| over actuals that read as numbers
