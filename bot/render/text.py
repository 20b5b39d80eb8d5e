"""A Reply as terminal text."""

from __future__ import annotations

from functools import singledispatch

from bot import reply
from bot.render.words import (amount, batch_line, driver_phrase, echoed, footer, given, headline, not_loaded, percent,
                              scale_note, whatif_change)


def render(r: reply.Reply) -> str:
    lines = body(r.body)
    if foot := footer(r):
        lines.append(f"  [{foot}]")
    return "\n".join(lines)


@singledispatch
def body(b: object) -> list[str]:
    raise TypeError(f"no text rendering for {type(b).__name__}")


@body.register
def _(b: reply.Prediction) -> list[str]:
    lines: list[str] = []
    for number, row in enumerate(b.rows, 1):
        label = f"{number}. " if len(b.rows) > 1 else ""
        first, *rest = row_lines(row, b.scale)
        lines += [f"{label}{echoed(row.inputs)}", f"  -> {first}", *(f"     {line}" for line in rest)]
    if note := scale_note(b.scale):
        lines.append(f"  ({note})")
    return lines


def row_lines(row: reply.Row, scale: str) -> list[str]:
    """The answer first, then the other classes, the drivers and the warnings."""
    if not row.ok:
        return [headline(row)]
    lines = [headline(row)]
    if len(row.probabilities) > 1:
        lines[0] += "   " + "  ".join(f"{label} {percent(p)}" for label, p in row.probabilities.items())
    target = row.prediction if row.confidence is not None else "the prediction"
    lines += [f"{'+' if d.direction == 'up' else '-'} {driver_phrase(d, scale, target)}" for d in row.drivers]
    lines += [f"! {warning}" for warning in row.warnings]
    return lines


@body.register
def _(b: reply.WhatIf) -> list[str]:
    lines = [f"what if {', '.join(f'{c.feature}: {c.before} -> {c.after}' for c in b.changes)}"] if b.changes else []
    lines.append(f"  before: {headline(b.before)}")
    lines.append(f"  after:  {headline(b.after)}")
    if change := whatif_change(b):
        lines.append(f"  {change}")
    lines += [f"  {given(d)} moved it by {amount(d.contribution, b.scale)}" for d in b.moved]
    return lines


@body.register
def _(b: reply.Explanation) -> list[str]:
    width = max((len(i.feature) for i in b.importances), default=0)
    top = max((i.mean_abs for i in b.importances), default=0.0) or 1.0
    lines = [f"What drives this model (mean |SHAP| over {b.rows} background rows, {scale_note(b.scale)}):"]
    lines += [f"  {i.feature.ljust(width)}  {bar(i.mean_abs / top)} {abs_amount(i.mean_abs, b.scale)}"
              for i in b.importances]
    return lines


def abs_amount(value: float, scale: str) -> str:
    return amount(value, scale).lstrip("+")


def bar(fraction: float, width: int = 20) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "#" * filled + "." * (width - filled)


@body.register
def _(b: reply.SchemaInfo) -> list[str]:
    lines = [b.description] if b.description else []
    if b.target:
        lines.append(f"Predicts: {b.target}")
    width = max((len(f.name) for f in b.fields), default=0)
    for f in b.fields:
        details = [f.kind, f.allowed]
        if f.unit:
            details.append(f"unit {f.unit}")
        if f.aliases:
            details.append(f"also {', '.join(f.aliases)}")
        details.append("optional" if f.optional else "required")
        desc = f" - {f.description}" if f.description else ""
        lines.append(f"  {f.name.ljust(width)}  {'; '.join(details)}{desc}")
    lines.append(f"Example: {b.example}")
    return lines


@body.register
def _(b: reply.Models) -> list[str]:
    if not b.models and not b.unavailable:
        return ["No models are installed."]
    width = max((len(m.name) for m in b.models), default=0)
    lines = []
    for m in b.models:
        mark = " (default)" if m.default else ""
        lines.append(f"  {m.name.ljust(width)}  v{m.version}  {m.kind}, predicts {m.target}{mark}")
        if m.description:
            lines.append(f"  {' ' * width}  {m.description}")
    if b.unavailable:
        lines.append(not_loaded(b.unavailable))
    return lines


@body.register
def _(b: reply.Batch) -> list[str]:
    return [batch_line(f) for f in b.files]


@body.register
def _(b: reply.Help) -> list[str]:
    return b.text.splitlines()


@body.register
def _(b: reply.Problem) -> list[str]:
    lines = [b.message]
    if b.caret:
        lines += ["", *(f"    {line}" for line in b.caret.splitlines()), ""]
    if b.hint:
        lines.append(b.hint)
    return lines
