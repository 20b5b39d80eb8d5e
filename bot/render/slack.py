"""A Reply as a Slack message: Block Kit blocks with fallback text.

Everything that came from a person or a file (inputs, reasons, file names,
labels, the command itself) is escaped, so `<!channel>` or `<@U123>` typed by
a user is shown, never sent. Slack's limits are kept here, in one place: 3000
characters per section text, 10 fields per section, 50 blocks per message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import singledispatch
from typing import Any

from bot import reply
from bot.render.chart import draws
from bot.render.words import (NEXT_STEPS, amount, answered_briefly, asked_briefly, asked_line, bar, batch_line,
                              body_lines, built_on, driver_phrase, echoed, explained, feedback_line, footer, headline,
                              history_intro, noted_lines, outcomes_text, percent, rows_of, scale_note, when,
                              whatif_change, whatif_parts)
from parser import feedback_text

Block = dict[str, Any]
Message = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_FIELDS = 10
MAX_BUTTON_VALUE = 2000
DETAILED_ROWS = 3            # more rows than this are listed one line each
SHARE_ACTION = "share"
CHART_ACTION = "chart"
RIGHT_ACTION, WRONG_ACTION = "feedback_right", "feedback_wrong"     # the ✓ and ✗ under a prediction
USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
BAR = str.maketrans("#.", "█░")


def escape(value: object) -> str:
    """Text as Slack shows it literally: `<!channel>` stays text and pings nobody."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(r: reply.Reply, *, share: str | None = None, shared_by: str | None = None,
           chart: str | None = None) -> Message:
    """The message for a reply. `share` is the command a Share button re-runs; `shared_by` a user ID; `chart` the
    command a Chart button runs to draw the answer (`chart_command`)."""
    tail = [buttons] if (buttons := feedback_buttons(r)) else []
    if chart and len(chart) <= MAX_BUTTON_VALUE:
        tail.append(chart_button(chart))
    if foot := footer(r):
        tail.append(context(escape(foot)))
    if shared_by:
        tail.append(context(f"Shared by {mention(shared_by)}"))
    if share and len(share) <= MAX_BUTTON_VALUE:
        tail.append(share_button(share))
    blocks = fit(body(r.body), len(tail)) + tail
    return {"text": fallback(blocks), "blocks": blocks}


def fallback(blocks: Sequence[Block]) -> str:
    """What notifications and screen readers show: the blocks' words, answer first, already escaped."""
    lines = []
    for block in blocks:
        if "text" in block:
            lines.append(block["text"]["text"])
        if "fields" in block:
            lines.append("  ".join(f["text"].replace("\n", " ") for f in block["fields"]))
        lines += [e["text"] for e in block.get("elements", ()) if e["type"] == "mrkdwn"]
    return clip("\n".join(lines), MAX_SECTION)


def progress(filenames: Sequence[str], rows: int = 0) -> Message:
    names = ", ".join(escape(n) for n in filenames)
    done = f" {rows:,} rows so far." if rows else ""
    message = f":hourglass_flowing_sand: Scoring {names}…{done}"
    return {"text": message, "blocks": [section(message)]}


@singledispatch
def body(b: object) -> list[Block]:
    raise TypeError(f"no Slack rendering for {type(b).__name__}")


@body.register
def _(b: reply.Prediction) -> list[Block]:
    if len(b.rows) > DETAILED_ROWS:
        return paragraphs([row_line(n, row) for n, row in enumerate(b.rows, 1)])
    blocks = follow_up_blocks(b)
    for number, row in enumerate(b.rows, 1):
        blocks += row_blocks(row, b.scale, f"{number}. " if len(b.rows) > 1 else "")
    if any(row.drivers for row in b.rows) and (note := scale_note(b.scale)):
        blocks.append(context(note))
    return blocks


def follow_up_blocks(b: reply.Prediction | reply.WhatIf) -> list[Block]:
    return [context(escape(line))] if (line := built_on(b)) else []


def row_blocks(row: reply.Row, scale: str, label: str = "") -> list[Block]:
    blocks = [section(f"*{escape(label + headline(row))}*"), context(f"for {escape(echoed(row.inputs))}")]
    if not row.ok:
        return blocks
    if len(row.probabilities) > 1:
        shown = list(row.probabilities.items())
        if len(shown) > MAX_FIELDS:
            shown = sorted(shown, key=lambda item: -item[1])[:MAX_FIELDS]
        blocks.append(fields([f"*{escape(k)}*\n{escape(percent(p))}" for k, p in shown]))
    if row.drivers:
        lines = [driver_phrase(d, scale, explained(row)) for d in row.drivers]
        blocks.append(section("\n".join(bars([d.contribution for d in row.drivers], lines))))
    if row.warnings:
        blocks.append(context("\n".join(f":warning: {escape(w)}" for w in row.warnings)))
    return blocks


def row_line(number: int, row: reply.Row) -> str:
    line = f"*{number}.* {escape(echoed(row.inputs))} → *{escape(headline(row))}*"
    return line + "".join(f"  :warning: {escape(w)}" for w in row.warnings)


def bars(pushes: Sequence[float], phrases: Sequence[str]) -> list[str]:
    """One row per push: its direction, a bar as long as its share of the biggest push, the phrase."""
    biggest = max(abs(p) for p in pushes) or 1.0
    return [f"{arrow(push)} `{bar(abs(push) / biggest, 10).translate(BAR)}` {escape(phrase)}"
            for push, phrase in zip(pushes, phrases, strict=True)]


def arrow(push: float) -> str:
    return "▲" if push > 0 else "▼" if push < 0 else "•"


@body.register
def _(b: reply.WhatIf) -> list[Block]:
    changes = ", ".join(f"{c.feature} {c.before} → {c.after}" for c in b.changes)
    outcome = [f"*Before*\n{escape(headline(b.before))}", f"*After*\n{escape(headline(b.after))}"]
    if change := whatif_change(b):
        outcome.append(f"*Change*\n{escape(change)}")
    blocks = follow_up_blocks(b) + ([section(f"*What if* {escape(changes)}?")] if b.changes else [])
    blocks.append(fields(outcome))
    if parts := whatif_parts(b):
        phrases = [f"{label}: {amount(move, b.scale)}" for label, move in parts]
        blocks.append(section("*What moved it*\n" + "\n".join(bars([move for _, move in parts], phrases))))
        if note := scale_note(b.scale):
            blocks.append(context(note))
    return blocks


@body.register(reply.Importances)
@body.register(reply.SchemaInfo)
@body.register(reply.Models)
@body.register(reply.Help)
def _(b: reply.Body) -> list[Block]:
    """Tables read best aligned, so these keep the plain text's columns in a code block."""
    return code(body_lines(b))


@body.register
def _(b: reply.Batch) -> list[Block]:
    return paragraphs([f"{':x:' if f.error else ':white_check_mark:'} {escape(batch_line(f))}" for f in b.files])


@body.register
def _(b: reply.History) -> list[Block]:
    lines = [escape(line) for line in history_intro(b)] + [history_line(past) for past in b.past]
    return paragraphs(lines) + ([context(escape(NEXT_STEPS))] if b.past else [])


def history_line(past: reply.Remembered) -> str:
    really = outcomes_text(past.outcomes, rows_of(past.answer))
    return (f"`{escape(past.prediction_id)}` {escape(when(past.at))} · {escape(past.model)} · "
            f"{escape(asked_briefly(past.answer))} → *{escape(answered_briefly(past.answer))}*"
            + (f" ({escape(really)})" if really else ""))


@body.register
def _(b: reply.Remembered) -> list[Block]:
    feedback = feedback_line(b)
    return [context(escape(asked_line(b))), *body(b.answer), *([context(escape(feedback))] if feedback else [])]


@body.register
def _(b: reply.Noted) -> list[Block]:
    first, *rest = noted_lines(b)
    return [section(escape(first)), *(context(escape(line)) for line in rest)]


@body.register
def _(b: reply.Unanswered) -> list[Block]:
    blocks = [section(escape(b.message))]
    if b.caret:
        blocks += code(b.caret.splitlines())
    if b.hint:
        blocks.append(context(escape(b.hint)))
    return blocks


def section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(mrkdwn, MAX_SECTION)}}


def fields(texts: Sequence[str]) -> Block:
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": clip(t, MAX_FIELD)}
                                          for t in texts[:MAX_FIELDS]]}


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(mrkdwn, MAX_FIELD)}]}


def share_button(command: str) -> Block:
    return {"type": "actions", "block_id": SHARE_ACTION,
            "elements": [button(SHARE_ACTION, "Share in channel", command)]}


def chart_button(command: str) -> Block:
    return {"type": "actions", "block_id": CHART_ACTION, "elements": [button(CHART_ACTION, "Chart", command)]}


def chart_command(r: reply.Reply, kept: bool) -> str | None:
    """The command a Chart button runs to draw `r` again, or None when it has no chart: `show ID` for a prediction or
    what-if the store `kept` (so the chart is of the answer given, and only for whoever may see it), `explain NAME`
    for a model's overall drivers. (bot.slack.app runs it for whoever clicks.)"""
    if not draws(r):
        return None
    if isinstance(r.body, reply.Importances):
        return f"explain {r.model}" if r.model else None
    return f"show {r.prediction_id}" if kept and r.prediction_id else None


def feedback_buttons(r: reply.Reply) -> Block | None:
    """✓ and ✗ under a one-row prediction of a class, each holding the command it stands for: ✓ says the class
    predicted is what really happened, ✗ asks what did (bot.slack.app runs it for whoever clicks)."""
    answer = r.body.answer if isinstance(r.body, reply.Remembered) else r.body
    if not (r.prediction_id and isinstance(answer, reply.Prediction) and len(answer.rows) == 1):
        return None
    [row] = answer.rows
    if not row.ok or row.prediction is None or row.value is not None:       # nothing predicted, or a number
        return None
    right = feedback_text(r.prediction_id, 1, row.prediction)
    if len(right) > MAX_BUTTON_VALUE:
        return None
    return {"type": "actions", "block_id": "feedback", "elements": [
        button(RIGHT_ACTION, "✓ Right", right), button(WRONG_ACTION, "✗ Wrong", feedback_text(r.prediction_id))]}


def button(action: str, text: str, value: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action, "value": value, "text": {"type": "plain_text", "text": text}}


def mention(user: str) -> str:
    return f"<@{user}>" if USER_ID.match(user) else escape(user)


def paragraphs(lines: Iterable[str], limit: int = MAX_SECTION) -> list[Block]:
    """Lines packed into as few sections as fit, each line whole where it can be."""
    return [section(chunk) for chunk in pack([clip(line, limit) for line in lines], limit)]


def code(lines: Iterable[str]) -> list[Block]:
    """Preformatted text, split over sections; each section is its own closed code block."""
    fence = "```"
    inner = MAX_SECTION - 2 * len(fence) - 2
    chunks = pack([clip(escape(line), inner) for line in lines], inner)
    return [section(f"{fence}\n{chunk}\n{fence}") for chunk in chunks]


def pack(lines: Sequence[str], limit: int) -> list[str]:
    chunks: list[str] = []
    for line in lines:
        if chunks and len(chunks[-1]) + 1 + len(line) <= limit:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks


def fit(blocks: list[Block], reserved: int) -> list[Block]:
    """At most MAX_BLOCKS with `reserved` more to come; what is cut is said, not dropped silently."""
    room = MAX_BLOCKS - reserved
    if len(blocks) <= room:
        return blocks
    kept = blocks[:room - 1]
    return kept + [context(f"…{len(blocks) - len(kept)} more parts were cut to fit one Slack message. "
                           "Ask for less, or send a CSV file to get every row.")]


def clip(mrkdwn: str, limit: int) -> str:
    """At most `limit` characters, ending in "…"; never cuts an `&amp;`-style escape in half."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    cut = mrkdwn[:limit - 1]
    amp = cut.rfind("&", len(cut) - 4)
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"
