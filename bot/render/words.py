"""Phrases every renderer shares: confidence, driver amounts and scales in plain words."""

from __future__ import annotations

from bot import reply
from scoring.problems import listing, shorten

ECHO_CHARS = 300        # a row echoed back is cut here: its start says which row it was
NAME_CHARS = 100        # file names are cut here


def percent(probability: float) -> str:
    value = probability * 100
    if 0 < value < 1:
        return "<1%"
    if 99 < value < 100:
        return ">99%"
    return f"{value:.0f}%"


def amount(contribution: float, scale: str) -> str:
    """A signed driver contribution in the units of its scale; huge ones (from huge inputs) stay short."""
    if scale == "probability":
        return f"{signed(contribution * 100, '.1f')} pts"
    if scale in ("log-odds", "raw score"):
        return f"{signed(contribution, '.2f')} {scale}"
    return f"{contribution:+,.3g}"


def signed(value: float, spec: str) -> str:
    return f"{value:+{spec}}" if abs(value) < 1e6 else f"{value:+.3g}"


def echoed(inputs: str) -> str:
    """A row as the person wrote it, cut when long."""
    return shorten(inputs, ECHO_CHARS)


def driver_phrase(driver: reply.Driver, scale: str, target: str) -> str:
    """'contract=month-to-month pushes toward churns (+21.0 pts)'."""
    verb = {"up": "pushes toward", "down": "pushes away from"}.get(driver.direction, "does not move")
    if scale == "target":
        verb = {"up": "raises", "down": "lowers"}.get(driver.direction, "does not move")
    return f"{given(driver)} {verb} {target} ({amount(driver.contribution, scale)})"


def given(driver: reply.Driver) -> str:
    """'age=45', or 'tenure (not given)' for a value the model filled in."""
    return f"{driver.feature} (not given)" if driver.value == "?" else f"{driver.feature}={driver.value}"


def whatif_change(b: reply.WhatIf) -> str | None:
    """'chance of churns: 91% -> 19%', or the change in a regressor's value."""
    if not (b.before.ok and b.after.ok):
        return None
    if b.about in b.before.probabilities and b.about in b.after.probabilities:
        return (f"chance of {b.about}: {percent(b.before.probabilities[b.about])} -> "
                f"{percent(b.after.probabilities[b.about])}")
    if b.before.value is not None and b.after.value is not None:
        return f"change: {amount(b.after.value - b.before.value, 'target')}"
    return None


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
        line += f"; passed through: {listing(scored.ignored_columns)}"
    return line + (f". Results: {scored.result}" if scored.result else ".")


def not_loaded(names: tuple[str, ...]) -> str:
    """The model files that did not load, named so their owner knows; why is in the log, not here."""
    return f"Not loaded: {listing(names)} (the bot's owner can see why in the log)."
