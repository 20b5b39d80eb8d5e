"""A Reply as a picture: a PNG of what pushed one prediction, a what-if's move, or a model's overall drivers.

People read drivers faster as a picture than as lines of text, so every
channel can offer one: `draws` says (cheaply, importing nothing) whether an
answer has a picture, and `chart_of` draws it. A one-row prediction is a
waterfall from the model's base value through each driver shown, then the
other fields together, to the explained output (the chance of `drivers_for`,
its log-odds, or the predicted value); a what-if runs from the answer before
to the answer after through each changed field and the interactions; an
`explain` is a bar per field of its mean |SHAP|.

Every number drawn comes from the Reply, as the text's do: `picture_of` works
them out, and the same `Picture` gives the bars and the alt text, so the two
cannot disagree. `bot.render.drawing` then places and paints it, importing
its libraries only when a chart is drawn. A chart that fails to draw is
logged and costs nothing else: `chart_of` gives None and the text goes out.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

from bot import reply
from bot.render import drawing
from bot.render.drawing import Bar, Mark, Picture
from bot.render.words import amount, abs_amount, headline, percent, signed

log = logging.getLogger(__name__)

LABEL_CHARS = 28                                        # a bar's `field = value`, cut here with "…"
TITLE_CHARS = 48
NOTHING = 1e-9                                          # relative: the other fields' push within rounding of none


@dataclass(frozen=True)
class Chart:
    png: bytes
    alt: str            # the same facts in words, for alt text and screen readers
    filename: str       # "predbot-2fa3d05a8b8c.png" (the prediction id), "predbot-explain-churn.png"


@dataclass(frozen=True)
class Measure:
    """How a scale's numbers read: what they measure ('the chance of churns'), a level and a move in words."""

    what: str
    axis: str
    scale: str

    def level(self, value: float) -> str:
        return f"{value * 100:.1f}%" if self.scale == "probability" else signed(value, 2).lstrip("+") \
            if self.scale in ("log-odds", "raw score") else f"{value:,.1f}"

    def move(self, value: float) -> str:
        """'7.9 points', '2.64', '30.8': a move's size, its sign said in words by the caller."""
        text = abs_amount(abs(value), self.scale)
        return text.replace(" pts", " points").replace(f" {self.scale}", "")


def draws(answer: reply.Reply) -> bool:
    """Whether `answer` has a picture: a one-row prediction that was predicted, a whatif, an explain."""
    body = shown(answer)
    if isinstance(body, reply.Prediction):
        return len(body.rows) == 1 and body.rows[0].ok and bool(body.rows[0].drivers) \
            and body.rows[0].base_value is not None
    if isinstance(body, reply.WhatIf):
        return body.before.ok and body.after.ok and body.total is not None
    return isinstance(body, reply.Importances) and bool(body.importances)


def chart_of(answer: reply.Reply) -> Chart | None:
    """The picture of `answer`, or None when it has none or drawing failed (logged, never raised)."""
    if not draws(answer):
        return None
    try:
        picture = picture_of(answer)
        return Chart(drawing.png(drawing.drawing_of(picture)), picture.alt, picture.filename)
    except Exception:  # noqa: BLE001 - the text answer goes out without its picture; the log has why
        log.exception("could not draw the chart of %s", answer.prediction_id or f"a {answer.model} answer")
        return None


def shown(answer: reply.Reply) -> reply.Body | None:
    """The body a chart is of: an answer's own, or the one a `show ID` brings back."""
    if not answer.ok:
        return None
    return answer.body.answer if isinstance(answer.body, reply.Remembered) else answer.body


def picture_of(answer: reply.Reply) -> Picture:
    """The bars, marks and words of `answer`'s chart (`draws(answer)` must be true)."""
    body = shown(answer)
    if isinstance(body, reply.Prediction):
        return prediction_picture(body.rows[0], body.scale, answer)
    if isinstance(body, reply.WhatIf):
        return whatif_picture(body, answer)
    if isinstance(body, reply.Importances):
        return importance_picture(body, answer)
    raise ValueError(f"no chart of {type(body).__name__}")


def measure(scale: str, about: str, model: str | None) -> Measure:
    target = f"the chance of {about}" if about else "the prediction"
    if scale == "probability":
        return Measure(target, f"chance of {about} (bars in probability points)", scale)
    if scale in ("log-odds", "raw score"):
        return Measure(f"the {scale} of {about}", f"{scale} of {about}", scale)
    return Measure("the prediction", f"predicted {model or 'value'} (target units)", "target")


def explained_output(row: reply.Row, scale: str) -> float | None:
    """What the row's drivers, all of them, add up to from its base value: the chance of `drivers_for` or the
    value predicted, as the text tells them; on a margin's scale, the margin the scorer summed (`row.output`).
    An answer kept from before rows carried it has a binary margin only (its probability's logit); a multiclass
    one's softmax hides it, so that chart stops at the fields shown."""
    p = row.probabilities.get(row.drivers_for)
    if scale == "probability":
        return p
    if scale in ("log-odds", "raw score"):
        if row.output is not None:
            return row.output
        return math.log(p / (1 - p)) if len(row.probabilities) == 2 and p is not None and 0 < p < 1 else None
    return row.value


def prediction_picture(row: reply.Row, scale: str, answer: reply.Reply) -> Picture:
    m = measure(scale, row.drivers_for, answer.model)
    base = row.base_value if row.base_value is not None else 0.0
    pushes = [(field_value(d.feature, d.value), d.contribution) for d in row.drivers]
    output = explained_output(row, scale)
    rest = None if output is None else output - base - sum(move for _, move in pushes)
    if rest is not None and abs(rest) > NOTHING * max(1.0, abs(output)):      # every field shown: none left over
        pushes.append(("other fields", rest))
    final = base + sum(move for _, move in pushes)
    marks = (Mark("base value", m.level(base), base), final_mark(row, m, final, complete=output is not None))
    untold = "" if output is not None else " (the other fields are not shown)"
    alt = (f"Predicted {headline(row)}. From a base of {m.level(base)}, "
           f"{phrased(pushes, m)}, to {m.level(final)}{untold}.")
    return Picture(cut(f"{answer.model}: {headline(row)}", TITLE_CHARS), m.axis, chained(base, pushes, scale),
                   marks, scale == "probability", alt, filename(answer, "predbot"))


def final_mark(row: reply.Row, m: Measure, final: float, complete: bool) -> Mark:
    """Where the waterfall ends: the chance, log-odds or value predicted; or, for a multiclass margin the Reply
    does not tell, the sum of the fields shown."""
    if m.scale == "probability":
        return Mark(f"P({cut(row.drivers_for, LABEL_CHARS - 3)})", m.level(final), final)
    if m.scale == "target":
        return Mark("prediction", str(row.prediction), final)
    if not complete:
        return Mark("fields shown", m.level(final), final)
    chance = row.probabilities.get(row.drivers_for)
    return Mark(cut(row.drivers_for, LABEL_CHARS), f"{m.level(final)} ({percent(chance or 0.0)})", final)


def whatif_picture(b: reply.WhatIf, answer: reply.Reply) -> Picture:
    m = measure(b.scale, b.about, answer.model)
    total = b.total or 0.0
    known = explained_output(b.before, b.scale)
    start = 0.0 if known is None else known    # a multiclass margin's is not told: its move is drawn from 0
    pushes = [(field_value(d.feature, d.value), d.contribution) for d in b.moved]
    if b.others:
        pushes.append(("other fields (interactions)", b.others))
    end = start + total
    marks = (Mark(cut(f"before: {b.before.prediction}", LABEL_CHARS), side_level(b.before, m, start, known), start),
             Mark(cut(f"after: {b.after.prediction}", LABEL_CHARS), side_level(b.after, m, end, known), end))
    changes = ", ".join(f"{c.feature} changed from {c.before} to {c.after}" for c in b.changes)
    alt = (f"What if {changes}: {headline(b.before)} before, {headline(b.after)} after; "
           f"{phrased(pushes, m)}, "
           f"so {m.what} moved by {signed_words(total, m)} in all.")
    title = f"{answer.model}: {b.before.prediction} → {b.after.prediction}"
    axis = m.axis if known is not None else f"change in {m.axis}"
    return Picture(cut(title, TITLE_CHARS), axis, chained(start, pushes, b.scale), marks,
                   b.scale == "probability", alt, filename(answer, "predbot-whatif"))


def side_level(row: reply.Row, m: Measure, value: float, known: float | None) -> str:
    if m.scale == "target":
        return str(row.prediction)
    return m.level(value) if known is not None else percent(row.confidence or 0.0)


def importance_picture(b: reply.Importances, answer: reply.Reply) -> Picture:
    m = measure(b.scale, "", answer.model)
    bars = tuple(Bar(cut(i.feature, LABEL_CHARS), 0.0, i.mean_abs, abs_amount(i.mean_abs, b.scale), "importance")
                 for i in b.importances)
    axis = {"probability": "mean |push| on the chance (probability points)",
            "log-odds": "mean |push| (log-odds)", "raw score": "mean |push| (raw score)"}.get(
        b.scale, f"mean |push| on {m.axis}")
    alt = (f"What drives {answer.model} overall, as the mean size of each field's push over {b.rows} rows: "
           + ", ".join(f"{i.feature} {m.move(i.mean_abs)}" for i in b.importances) + ".")
    return Picture(f"What drives {answer.model}", axis, bars, (), b.scale == "probability", alt,
                   f"predbot-explain-{safe(answer.model or 'model')}.png")


def chained(start: float, pushes: list[tuple[str, float]], scale: str) -> tuple[Bar, ...]:
    """The waterfall's bars: each starts where the one before it ended."""
    bars, at = [], start
    for label, move in pushes:
        kind = "others" if label.startswith("other fields") else "push"
        bars.append(Bar(label, at, move, amount(move, scale), kind))
        at += move
    return tuple(bars)


def field_value(feature: str, value: str) -> str:
    return cut(f"{feature} (not given)" if value == "?" else f"{feature} = {value}", LABEL_CHARS)


def phrased(pushes: list[tuple[str, float]], m: Measure) -> str:
    """'contract = month-to-month raised the chance of churns by 7.9 points and age = 45 lowered it by 1.2
    points': what is moved is named once."""
    return listed([phrase(label, move, m, m.what if at == 0 else "it") for at, (label, move) in enumerate(pushes)])


def phrase(label: str, move: float, m: Measure, what: str) -> str:
    if move == 0:
        return f"{label} did not move {what}"
    return f"{label} {'raised' if move > 0 else 'lowered'} {what} by {m.move(move)}"


def signed_words(move: float, m: Measure) -> str:
    return f"{'+' if move >= 0 else '-'}{m.move(move)}"


def listed(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"


def cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


def safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)[:60]


def filename(answer: reply.Reply, prefix: str) -> str:
    return f"{prefix}-{safe(answer.prediction_id)}.png" if answer.prediction_id else f"{prefix}.png"
