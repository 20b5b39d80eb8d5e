"""Replies as the two parts of an email: plain text and HTML.

One mail may hold several commands, so both parts render a sequence of
(command as asked, Reply) pairs. The plain part is each reply's plain lines,
as the terminal shows them; the HTML part escapes every piece of echoed text
with `html.escape`, and shows an answer's chart, when the mail carries one,
right after that answer as an `<img>` of the mail's own image part (`cid:`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import singledispatch
from html import escape

from bot import reply
from bot.render.words import (NEXT_STEPS, abs_amount, amount, answered_briefly, asked_briefly, asked_line, batch_line,
                              built_on, driver_phrase, echoed, explained, feedback_line, footer, headline,
                              history_intro, live_line, live_text, not_loaded, noted_lines, outcomes_text, percent,
                              plain_lines, rows_of, scale_note, when, whatif_change, whatif_parts)

MAX_CHARTS = 3          # a reply mail's charts: each is a drawing's time and ~30 KB of mail
SIGN_OFF = "predbot · send `help` for the commands"
STYLE = ("body{font-family:sans-serif;line-height:1.4}pre{background:#f4f4f4;padding:6px}"
         ".asked{color:#555}.foot{color:#888;font-size:small}.warn{color:#a60}"
         "td,th{padding:2px 8px;text-align:left}")


@dataclass(frozen=True)
class Image:
    """A chart in the mail: the Content-ID of its image/png part, and the same facts in words for its alt text."""

    cid: str            # without the angle brackets, as a `cid:` URL names it
    alt: str


@dataclass(frozen=True)
class Answer:
    asked: str          # the command as written in the mail; "" when there was none (files, help)
    reply: reply.Reply
    image: Image | None = None      # its chart, when the mail carries one


def plain(answers: Sequence[Answer], notes: Sequence[str] = ()) -> str:
    sections = [*notes]
    for answer in answers:
        lines = [f"> {line}" for line in answer.asked.splitlines()]
        sections.append("\n".join([*lines, *plain_lines(answer.reply)]))
    return "\n\n".join([*sections, f"-- \n{SIGN_OFF}"]) + "\n"


def html(answers: Sequence[Answer], notes: Sequence[str] = (), charts_left_out: int = 0) -> str:
    """The HTML part; `charts_left_out` counts the answers past MAX_CHARTS whose charts the mail does not carry."""
    parts = [f"<p>{escape(note)}</p>" for note in notes]
    for answer in answers:
        if answer.asked:
            parts.append(f'<p class="asked">You asked: <code>{escape(answer.asked)}</code></p>')
        parts.append(body(answer.reply.body))
        if answer.image:
            parts.append(f'<p><img src="cid:{escape(answer.image.cid)}" alt="{escape(answer.image.alt)}" '
                         'style="max-width:100%"></p>')
        if foot := footer(answer.reply):
            parts.append(f'<p class="foot">{escape(foot)}</p>')
        parts.append("<hr>")
    if charts_left_out:
        parts.append(f'<p class="foot">{escape(left_out_line(charts_left_out))}</p>')
    parts.append(f'<p class="foot">{escape(SIGN_OFF)}</p>')
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{STYLE}</style></head>'
            f"<body>{''.join(parts)}</body></html>\n")


def left_out_line(count: int) -> str:
    more = "1 more answer has a chart" if count == 1 else f"{count} more answers have charts"
    return (f"{more} not shown here: a reply shows at most {MAX_CHARTS}. "
            "Send a command in a mail of its own to see its chart.")


def items(values: Sequence[str], css: str = "") -> str:
    if not values:
        return ""
    attr = f' class="{css}"' if css else ""
    return f"<ul{attr}>" + "".join(f"<li>{escape(v)}</li>" for v in values) + "</ul>"


def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    lines = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{lines}</table>"


@singledispatch
def body(b: object) -> str:
    raise TypeError(f"no email rendering for {type(b).__name__}")


@body.register
def _(b: reply.Prediction) -> str:
    parts = [follow_up_html(b), *(row_html(row, b.scale) for row in b.rows)]
    if note := scale_note(b.scale):
        parts.append(f'<p class="foot">{escape(note)}</p>')
    return "".join(parts)


def row_html(row: reply.Row, scale: str) -> str:
    parts = [f"<p><code>{escape(echoed(row.inputs))}</code><br><b>{escape(headline(row))}</b></p>"]
    if not row.ok:
        return parts[0]
    if len(row.probabilities) > 1:
        parts.append(f"<p>{escape(', '.join(f'{k} {percent(p)}' for k, p in row.probabilities.items()))}</p>")
    parts.append(items([driver_phrase(d, scale, explained(row)) for d in row.drivers]))
    parts.append(items([f"⚠ {w}" for w in row.warnings], "warn"))
    return "".join(parts)


@body.register
def _(b: reply.WhatIf) -> str:
    rows = [["before", headline(b.before)], ["after", headline(b.after)]]
    if change := whatif_change(b):
        rows.append(["change", change])
    changes = ", ".join(f"{c.feature}: {c.before} → {c.after}" for c in b.changes)
    parts = whatif_parts(b)
    moved = table(["what moved it", "by"], [[label, amount(move, b.scale)] for label, move in parts]) if parts else ""
    note = f'<p class="foot">{escape(scale_note(b.scale))}</p>' if parts and scale_note(b.scale) else ""
    question = f"<p>What if {escape(changes)}</p>" if b.changes else ""
    return f"{follow_up_html(b)}{question}{table(['', 'prediction'], rows)}{moved}{note}"


def follow_up_html(b: reply.Prediction | reply.WhatIf) -> str:
    return f'<p class="foot">{escape(line)}</p>' if (line := built_on(b)) else ""


@body.register
def _(b: reply.Importances) -> str:
    intro = f"What drives this model (mean |SHAP| over {b.rows} background rows, {scale_note(b.scale)}):"
    rows = [[i.feature, abs_amount(i.mean_abs, b.scale)] for i in b.importances]
    live = f"<p>{escape(live_line(b.live))}</p>" if b.live else ""
    return f"<p>{escape(intro)}</p>{table(['field', 'mean effect'], rows)}{live}"


@body.register
def _(b: reply.SchemaInfo) -> str:
    intro = " ".join(filter(None, [b.description, f"Predicts: {b.target}." if b.target else ""]))
    rows = [[f.name, f.kind, f.allowed, f.unit, ", ".join(f.aliases), "optional" if f.optional else "required",
             f.description] for f in b.fields]
    head = ["field", "kind", "allowed", "unit", "also", "", "description"]
    return (f"<p>{escape(intro)}</p>{table(head, rows)}"
            f"<p>Example:</p><pre>{escape(b.example)}</pre>")


@body.register
def _(b: reply.Models) -> str:
    if not b.models and not b.unavailable:
        return "<p>No models are installed.</p>"
    live = any(m.live for m in b.models)     # a column of its own only once some model has had feedback
    rows = [[m.name + (" (default)" if m.default else ""), f"v{m.version}", m.kind, m.target, m.description,
             *([live_text(m.live[0]) if m.live else ""] if live else [])] for m in b.models]
    missing = f"<p>{escape(not_loaded(b))}</p>" if b.unavailable else ""
    head = ["model", "version", "kind", "predicts", "description", *(["live accuracy"] if live else [])]
    return (table(head, rows) if rows else "") + missing


@body.register
def _(b: reply.Batch) -> str:
    return items([batch_line(f) for f in b.files])


@body.register
def _(b: reply.Help) -> str:
    return f"<pre>{escape(b.text)}</pre>"


@body.register
def _(b: reply.Unanswered) -> str:
    parts = [f"<p>{escape(b.message)}</p>"]
    if b.caret:
        parts.append(f"<pre>{escape(b.caret)}</pre>")
    if b.hint:
        parts.append(f"<p>{escape(b.hint)}</p>")
    return "".join(parts)


@body.register
def _(b: reply.History) -> str:
    intro = "".join(f"<p>{escape(line)}</p>" for line in history_intro(b))
    if not b.past:
        return intro
    rows = [[p.prediction_id, when(p.at), p.model, asked_briefly(p.answer), answered_briefly(p.answer),
             outcomes_text(p.outcomes, rows_of(p.answer))] for p in b.past]
    return (intro + table(["id", "asked", "model", "inputs", "answer", "feedback"], rows)
            + f'<p class="foot">{escape(NEXT_STEPS)}</p>')


@body.register
def _(b: reply.Remembered) -> str:
    feedback = feedback_line(b)
    return (f'<p class="asked">{escape(asked_line(b))}</p>{body(b.answer)}'
            + (f"<p>{escape(feedback)}</p>" if feedback else ""))


@body.register
def _(b: reply.Noted) -> str:
    return "".join(f"<p>{escape(line)}</p>" for line in noted_lines(b))
