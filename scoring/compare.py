"""What changes when some inputs change (`whatif`): both predictions, and the inputs that moved it.

Both rows are explained toward the same class, the one predicted before the
change, so every input's move is measured on one footing and points where
that class's chance went.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

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
    moved: tuple[Driver, ...]       # the change in each input's contribution, biggest first; () unless both predicted
    about: str = ""                 # classifiers: the class whose probability `moved` measures

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
    everything = len(model.schema.features)     # every driver, so a move is found wherever it happened
    [before] = score(model, [base], everything)
    about = str(before.prediction) if model.is_classifier and before.ok else ""
    [after] = score(model, [changed_row], everything, drivers_for=about or None)
    moves = moved(before, after)[:top_k] if before.ok and after.ok else ()
    return Comparison(top(before, top_k), top(after, top_k), tuple(changed), moves, about)


def moved(before: RowResult, after: RowResult) -> tuple[Driver, ...]:
    """How each input's contribution changed, biggest move first; inputs that did not move are left out."""
    old = {d.feature: d.contribution for d in before.drivers}
    moves = [Driver(d.feature, d.value, d.contribution - old.get(d.feature, 0.0)) for d in after.drivers]
    return tuple(sorted((d for d in moves if d.contribution != 0), key=lambda d: -abs(d.contribution)))


def top(result: RowResult, top_k: int) -> RowResult:
    return replace(result, drivers=result.drivers[:top_k])
