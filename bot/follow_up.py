"""Follow-ups in a conversation: `whatif: income=80000` without a base row, and `predict: age=50` giving only the
fields that differ, both built on the conversation's last prediction.

A conversation is a Slack thread or DM, a mail thread (its first Message-ID), or one `predbot chat` run (see
reply.Sender). Its last prediction is the newest answer with an id there, of either kind: a prediction's first row
is the row built on, and a what-if's "after" row, so a chain of what-ifs goes on from where the last one left off.
That row is read back from the inputs its reply shows (what the person typed, or the whole row a follow-up made).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import parser
from bot import memory, reply
from bot.store.entry import Recorded

if TYPE_CHECKING:
    from bot.store import Store

NOTHING_YET = ("Nothing to build on here yet: give the whole row, "
               "`whatif: age=45, income=60000 -> income=80000`")


@dataclass(frozen=True)
class Base:
    """The row a follow-up is built on: the model and prediction it came from, and the row as its reply showed it."""

    prediction_id: str
    model: str
    row: parser.Row


def last(store: Store | None, sender: reply.Sender) -> Base | None:
    """The conversation's last prediction, once what was just answered is written; None without a store, outside
    a conversation (`predbot ask`), before any prediction there, or when its row cannot be read back."""
    if store is None or not sender.conversation:
        return None
    store.flush(memory.FLUSH_SECONDS)
    found = store.last(sender.medium, sender.workspace, sender.conversation, sender.thread)
    return None if found is None else base(found)


def base(found: Recorded) -> Base | None:
    kept = found.entry
    row = kept.rows[-1] if kept.kind == "whatif" else kept.rows[0]
    command = parser.parse(f"predict {kept.model}: {row.inputs}")
    if not isinstance(command, parser.Predict) or len(command.rows) != 1:
        return None
    return Base(kept.prediction_id, kept.model, command.rows[0])
