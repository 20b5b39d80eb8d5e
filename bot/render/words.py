"""Words every renderer shares: confidence, driver amounts and scales as phrases, and each reply as plain lines.

The terminal prints a reply's plain lines, an email's plain part quotes them,
and Slack shows the tables among them (importances, fields, models) in code
blocks; so each renderer imports this module and none imports another.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch

from bot import reply
from parser.values import WRITTEN_OUT, written
from scoring.problems import listing, shorten

ECHO_CHARS = 300        # a row echoed back is cut here: its start says which row it was
NAME_CHARS = 100        # file names are cut here
BRIEF_CHARS = 60        # what was asked and answered, on one line of `history`
LIVE_VERSIONS = 3       # a model's versions whose live accuracy `models` shows
NEXT_STEPS = "`show ID` shows one again; `feedback ID actual=VALUE` says what really happened."


def percent(probability: float) -> str:
    value = probability * 100
    if 0 < value < 1:
        return "<1%"
    if 99 < value < 100:
        return ">99%"
    return f"{value:.0f}%"


def amount(contribution: float, scale: str) -> str:
    """A signed driver contribution in the units of its scale: `+27.2 pts`, `-0.53 log-odds`, `+1.23k`."""
    if scale == "probability":
        return f"{signed(contribution * 100, 1)} pts"
    if scale in ("log-odds", "raw score"):
        return f"{signed(contribution, 2)} {scale}"
    return signed(contribution)


def abs_amount(value: float, scale: str) -> str:
    return amount(value, scale).lstrip("+")


def bar(fraction: float, width: int = 20) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "#" * filled + "." * (width - filled)


def signed(value: float, decimals: int | None = None) -> str:
    """`+27.2` with a fixed number of decimals; otherwise, and for huge values (from huge inputs), three
    significant digits in the language's magnitudes: `+1.23k`, `-4.5M`."""
    if decimals is not None and abs(value) < WRITTEN_OUT:
        return f"{value:+.{decimals}f}"
    text = written(value, 3)
    return text if text.startswith("-") else f"+{text}"


def echoed(inputs: str) -> str:
    """A row as the person wrote it, cut when long."""
    return shorten(inputs, ECHO_CHARS)


def explained(row: reply.Row) -> str:
    """What a row's drivers push toward: the class they explain, which for a binary model is its positive
    class even on a row that predicts the other one, or a regressor's prediction."""
    return row.drivers_for or "the prediction"


def driver_phrase(driver: reply.Factor, scale: str, target: str) -> str:
    """'contract=month-to-month pushes toward churns (+21.0 pts)'; `target` is what the drivers explain."""
    verb = {"up": "pushes toward", "down": "pushes away from"}.get(driver.direction, "does not move")
    if scale == "target":
        verb = {"up": "raises", "down": "lowers"}.get(driver.direction, "does not move")
    return f"{given(driver)} {verb} {target} ({amount(driver.contribution, scale)})"


def given(driver: reply.Factor) -> str:
    """'age=45', or 'tenure (not given)' for a value the model filled in."""
    return f"{driver.feature} (not given)" if driver.value == "?" else f"{driver.feature}={driver.value}"


def whatif_change(b: reply.WhatIf) -> str | None:
    """'chance of churns: 91% -> 19% (-72.0 pts)', or a regressor's value before and after, and the move."""
    if not (b.before.ok and b.after.ok):
        return None
    if b.about in b.before.probabilities and b.about in b.after.probabilities:
        line = (f"chance of {b.about}: {percent(b.before.probabilities[b.about])} -> "
                f"{percent(b.after.probabilities[b.about])}")
        return line if b.total is None else f"{line} ({amount(b.total, b.scale)})"
    if b.before.value is not None and b.after.value is not None:
        total = b.after.value - b.before.value if b.total is None else b.total
        return f"prediction: {b.before.prediction} -> {b.after.prediction} ({amount(total, 'target')})"
    return None


def whatif_parts(b: reply.WhatIf) -> list[tuple[str, float]]:
    """The move split into parts that add up to it: each changed field, then the other fields together."""
    others = [("other fields, through interactions", b.others)] if b.others else []
    return [(given(d), d.contribution) for d in b.moved] + others


def headline(row: reply.Row) -> str:
    if not row.ok:
        return f"not predicted: {row.reason}"
    if row.confidence is not None:
        return f"{row.prediction} ({percent(row.confidence)} confident)"
    return str(row.prediction)


def scale_note(scale: str) -> str:
    return {"probability": "drivers in percentage points of probability",
            "log-odds": "drivers in log-odds",
            "raw score": "drivers in the model's raw score (log-odds-like)",
            "target": "drivers in the target's units"}.get(scale, "")


def built_on(b: reply.Prediction | reply.WhatIf) -> str | None:
    """A follow-up says which prediction it built on, so a surprising answer can be traced to its base row."""
    return f"built on {b.built_on}, the last prediction here" if b.built_on else None


def footer(r: reply.Reply) -> str:
    parts = []
    if r.model:
        parts.append(f"model {r.model} v{r.version}")
    if r.prediction_id:
        parts.append(f"id {r.prediction_id}")
    return " · ".join(parts)


def batch_line(scored: reply.ScoredFile) -> str:
    """'customers.csv: 998 of 1,000 rows predicted; 2 not (2 wrong type). Results: ...'."""
    name = shorten(scored.filename, NAME_CHARS)
    if scored.error:
        return f"{name}: not scored. {scored.error}"
    line = f"{name}: {scored.predicted:,} of {scored.rows:,} rows predicted"
    if scored.rejected:
        reasons = ", ".join(f"{n} {label.replace('_', ' ')}" for label, n in scored.reasons.items())
        line += f"; {scored.rejected:,} not ({reasons}), see not_predicted_reason"
    if scored.ignored_columns:
        line += f"; passed through: {listing([maybe(c, scored.suggestions.get(c)) for c in scored.ignored_columns])}"
    return line + (f". Results: {scored.result}" if scored.result else ".")


def maybe(column: str, field: str | None) -> str:
    return f"{column} (did you mean {field}?)" if field else column


def not_loaded(models: reply.Models) -> str:
    """The model files that did not load. A chat gets their names, and why stays in the log, as a reason can hold
    a path; the operator's `predbot models` gets each with its reason (bot.core.Bot.models), one to a line."""
    if models.reasons:
        return "\n".join(["Not loaded:", *(f"  {name}: {why}" for name, why in models.reasons.items())])
    return f"Not loaded: {listing(models.unavailable)} (the bot's owner can see why in the log)."


def when(at: str) -> str:
    """'2025-12-02 08:15 UTC' from the ISO 8601 time a remembered answer keeps."""
    return datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M UTC")


def live_text(live: reply.LiveAccuracy) -> str:
    """'78% right (7 of 9 with feedback)', or a regressor's mean absolute error."""
    if live.accuracy is not None:
        return f"{percent(live.accuracy)} right ({round(live.accuracy * live.count)} of {live.count} with feedback)"
    if live.mean_absolute_error is not None:
        return f"off by {written(live.mean_absolute_error, 3)} on average ({live.count} with feedback)"
    return f"{live.count} with feedback"


def live_line(lives: tuple[reply.LiveAccuracy, ...]) -> str:
    """'Live accuracy: v84d96f5ecf 78% right (7 of 9 with feedback); v0a1b2c3d4e ...', newest version first."""
    return "Live accuracy: " + "; ".join(f"v{live.version} {live_text(live)}" for live in lives[:LIVE_VERSIONS])


def brief(text: str) -> str:
    return text if len(text) <= BRIEF_CHARS else text[:BRIEF_CHARS - 1] + "…"


def asked_briefly(answer: reply.Prediction | reply.WhatIf) -> str:
    """The rows asked about, or a what-if's row and changes, cut to fit one line."""
    if isinstance(answer, reply.WhatIf):
        changes = ", ".join(f"{c.feature}={c.after}" for c in answer.changes)
        return brief(f"{answer.before.inputs}, what if {changes}" if changes else answer.before.inputs)
    return brief("; ".join(row.inputs for row in answer.rows))


def answered_briefly(answer: reply.Prediction | reply.WhatIf) -> str:
    """'churns (76% confident)', '3 rows: churns, stays, stays', or a what-if's 'stays, then churns'."""
    if isinstance(answer, reply.WhatIf):
        before, after = (row.prediction or "not predicted" for row in (answer.before, answer.after))
        return brief(f"{before}, then {after}")
    if len(answer.rows) == 1:
        return brief(headline(answer.rows[0]))
    return brief(f"{len(answer.rows)} rows: " + ", ".join(row.prediction or "not predicted" for row in answer.rows))


def outcomes_text(outcomes: tuple[reply.Outcome, ...], rows: int) -> str:
    """'really churns', or 'really: row 1 churns, row 3 stays'; "" with no feedback."""
    if not outcomes:
        return ""
    if rows == 1:
        return f"really {outcomes[0].actual}"
    return "really: " + ", ".join(f"row {o.row} {o.actual}" for o in outcomes)


def rows_of(answer: reply.Prediction | reply.WhatIf) -> int:
    return len(answer.rows) if isinstance(answer, reply.Prediction) else 2


def history_intro(h: reply.History) -> list[str]:
    """What the list is, and that it was cut to the most `history` lists."""
    of = f" with {h.model}" if h.model else ""
    lines = [f"You asked for {h.asked}; `history` lists up to {h.most}."] if h.asked > h.most else []
    if not h.past:
        return [*lines, f"You have no predictions{of} yet; `help predict` shows how to ask for one."]
    many = "prediction" if len(h.past) == 1 else f"{len(h.past)} predictions"
    return [*lines, f"Your last {many}{of}, newest first:"]


def asked_line(b: reply.Remembered) -> str:
    return f"Asked {when(b.at)}: {echoed(b.asked)}"


def feedback_line(b: reply.Remembered) -> str | None:
    really = outcomes_text(b.outcomes, rows_of(b.answer))
    return f"Feedback: {really}" if really else None


def noted_lines(n: reply.Noted) -> list[str]:
    """'Noted: row 2 of 3f2a9c0d1e4b was stays; predicted churns, so it was wrong.', and the live accuracy now."""
    which = n.prediction_id if n.rows == 1 else f"row {n.row} of {n.prediction_id}"
    verdict = f"off by {signed(n.off_by)}" if n.off_by is not None else f"it was {'right' if n.right else 'wrong'}"
    return [f"Noted: {which} was {n.actual}; predicted {n.predicted}, so {verdict}.",
            *([live_line((n.live,))] if n.live else [])]


def plain_lines(r: reply.Reply) -> list[str]:
    """The whole reply as plain text: its body, then the model and prediction id in brackets."""
    lines = body_lines(r.body)
    if foot := footer(r):
        lines.append(f"  [{foot}]")
    return lines


@singledispatch
def body_lines(b: object) -> list[str]:
    raise TypeError(f"no text rendering for {type(b).__name__}")


@body_lines.register
def _(b: reply.Prediction) -> list[str]:
    lines = [line] if (line := built_on(b)) else []
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
    lines += [f"{'+' if d.direction == 'up' else '-'} {driver_phrase(d, scale, explained(row))}" for d in row.drivers]
    lines += [f"! {warning}" for warning in row.warnings]
    return lines


@body_lines.register
def _(b: reply.WhatIf) -> list[str]:
    lines = [line] if (line := built_on(b)) else []
    lines += [f"what if {', '.join(f'{c.feature}: {c.before} -> {c.after}' for c in b.changes)}"] if b.changes else []
    lines.append(f"  before: {headline(b.before)}")
    lines.append(f"  after:  {headline(b.after)}")
    if change := whatif_change(b):
        lines.append(f"  {change}")
    lines += [f"    {label}: {amount(move, b.scale)}" for label, move in whatif_parts(b)]
    return lines


@body_lines.register
def _(b: reply.Importances) -> list[str]:
    width = max((len(i.feature) for i in b.importances), default=0)
    top = max((i.mean_abs for i in b.importances), default=0.0) or 1.0
    lines = [f"What drives this model (mean |SHAP| over {b.rows} background rows, {scale_note(b.scale)}):"]
    lines += [f"  {i.feature.ljust(width)}  {bar(i.mean_abs / top)} {abs_amount(i.mean_abs, b.scale)}"
              for i in b.importances]
    return lines + ([live_line(b.live)] if b.live else [])


@body_lines.register
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


@body_lines.register
def _(b: reply.Models) -> list[str]:
    if not (b.models or b.unavailable or b.reasons):
        return ["No models are installed."]
    width = max((len(m.name) for m in b.models), default=0)
    lines = []
    for m in b.models:
        mark = " (default)" if m.default else ""
        lines.append(f"  {m.name.ljust(width)}  v{m.version}  {m.kind}, predicts {m.target}{mark}")
        if m.description:
            lines.append(f"  {' ' * width}  {m.description}")
        if m.live:
            lines.append(f"  {' ' * width}  {live_line(m.live)}")
    if b.unavailable or b.reasons:
        lines.append(not_loaded(b))
    return lines


@body_lines.register
def _(b: reply.Batch) -> list[str]:
    return [batch_line(f) for f in b.files]


@body_lines.register
def _(b: reply.Help) -> list[str]:
    return b.text.splitlines()


@body_lines.register
def _(b: reply.Unanswered) -> list[str]:
    lines = [b.message]
    if b.caret:
        lines += ["", *(f"    {line}" for line in b.caret.splitlines()), ""]
    if b.hint:
        lines.append(b.hint)
    return lines


@body_lines.register
def _(b: reply.History) -> list[str]:
    lines = history_intro(b)
    for past in b.past:
        really = outcomes_text(past.outcomes, rows_of(past.answer))
        lines.append(f"  {past.prediction_id}  {when(past.at)}  {past.model}  {asked_briefly(past.answer)} -> "
                     f"{answered_briefly(past.answer)}" + (f"  [{really}]" if really else ""))
    return lines + ([NEXT_STEPS] if b.past else [])


@body_lines.register
def _(b: reply.Remembered) -> list[str]:
    feedback = feedback_line(b)
    return [asked_line(b), *body_lines(b.answer), *([f"  {feedback}"] if feedback else [])]


@body_lines.register
def _(b: reply.Noted) -> list[str]:
    return noted_lines(b)
