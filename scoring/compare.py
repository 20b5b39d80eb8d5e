"""What changes when some inputs change (`whatif`): both predictions, and how much each change moved it.

Both rows are explained toward the same class (a binary model's positive
class, else the class predicted before the change), so the two explanations
stand on one footing and the move between them splits into parts that add
up: one per changed field, and one for every other field together, whose
contributions move only through interactions with the changed ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from scoring.explain import TOLERANCE
from scoring.model import Model
from scoring.problems import Problem
from scoring.score import Driver, RowResult, score


@dataclass(frozen=True)
class ChangedInput:
    feature: str
    before: object          # None when the base row left it out
    after: object


@dataclass(frozen=True)
class Comparison:
    before: RowResult
    after: RowResult
    changes: tuple[ChangedInput, ...]
    moved: tuple[Driver, ...] = ()  # what each changed field moved the explained output by, biggest first
    others: float = 0.0             # what the unchanged fields moved it by, through interactions
    total: float | None = None      # the whole move of the explained output; None unless both rows have drivers
    about: str = ""                 # classifiers: the class whose explained output moved

    @property
    def ok(self) -> bool:
        return self.before.ok and self.after.ok


def compare(model: Model, base: Mapping[str, object], changes: Mapping[str, object],
            top_k: int) -> Comparison | Problem:
    """`base` scored as given and with `changes` made; a change to a field the model lacks is the Problem."""
    given = {model.field_name(key): value for key, value in base.items()}
    changed_row, changed = dict(given), []
    for key, value in changes.items():
        feature = model.schema.feature(key)
        if isinstance(feature, Problem):
            return feature
        changed_row[feature.name] = value
        changed.append(ChangedInput(feature.name, given.get(feature.name), value))
    everything = len(model.schema.features)     # every driver, so that the parts add up to the whole move
    [before] = score(model, [base], everything)
    [after] = score(model, [changed_row], everything, drivers_for=before.drivers_for or None)
    comparison = Comparison(top(before, top_k), top(after, top_k), tuple(changed), about=before.drivers_for)
    if before.base_value is None or after.base_value is None:
        return comparison
    moves, others, total = moved(before, after, {c.feature for c in changed})
    return replace(comparison, moved=moves, others=others, total=total)


def moved(before: RowResult, after: RowResult, changed: set[str]) -> tuple[tuple[Driver, ...], float, float]:
    """(each changed field's move, biggest first; the unchanged fields' move together; the whole move).

    Both results must carry every driver toward the same class. The whole move
    is the change in base value plus contributions, so the parts add up to it
    exactly; an unchanged fields' move within the explainers' own tolerance of
    nothing is nothing.
    """
    old = {d.feature: d.contribution for d in before.drivers}
    moves = [Driver(d.feature, d.value, d.contribution - old.get(d.feature, 0.0)) for d in after.drivers]
    total = output(after) - output(before)
    own = tuple(sorted((d for d in moves if d.feature in changed), key=lambda d: -abs(d.contribution)))
    others = total - sum(d.contribution for d in own)
    if abs(others) <= TOLERANCE * max(1.0, abs(output(before)), abs(output(after))):
        others = 0.0
    return own, others, total


def output(result: RowResult) -> float:
    """The explained output: the probability, margin or value all the drivers add up to."""
    if result.output is not None:
        return result.output
    return (result.base_value or 0.0) + sum(d.contribution for d in result.drivers)


def top(result: RowResult, top_k: int) -> RowResult:
    return replace(result, drivers=result.drivers[:top_k])
