"""Score rows with a model: prediction, confidence, drivers, warnings, or why not.

The rows that pass validation are transformed once, as one batch; the
transformed batch feeds both the final estimator and the explainer. One row
the model chokes on is retried alone, so it cannot spoil the others. A single
row takes the model's fast path where it has one (`scoring.fastpath`), with no
DataFrame unless the explainer reads raw rows.

Drivers of a binary classifier explain its positive class on every row,
whichever class a row predicts, so a driver's sign means the same thing on
every row and a column of them can be sorted or averaged; a multiclass
model's explain each row's predicted class (`RowResult.drivers_for` names it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scoring import pipeline
from scoring.explain import Explanation, reads_raw
from scoring.model import Model
from scoring.problems import ModelFailed, NoDrivers, Problem
from scoring.schema import CoercedRow, to_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Driver:
    """One feature's push on the prediction, on the explanation's scale."""

    feature: str
    value: object
    contribution: float

    @property
    def direction(self) -> str:
        return "up" if self.contribution > 0 else "down" if self.contribution < 0 else "none"


@dataclass(frozen=True)
class RowResult:
    index: int
    inputs: Mapping[str, object]
    prediction: object = None
    probabilities: Mapping[str, float] = field(default_factory=dict)
    drivers: tuple[Driver, ...] = ()
    scale: str = ""
    base_value: float | None = None         # with every driver's contribution, adds up to the explained output
    drivers_for: str = ""                   # classifiers: the class the drivers explain
    warnings: tuple[Problem, ...] = ()
    errors: tuple[Problem, ...] = ()
    output: float | None = None             # what every driver adds up to from the base value, the top_k shown or not

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def reason(self) -> str | None:
        """Why the row was not predicted, in words, or None."""
        return " ".join(e.message for e in self.errors) if self.errors else None


def score(model: Model, rows: Sequence[Mapping[str, object]], top_k: int | None = None,
          drivers_for: str | None = None, drivers: bool = True) -> list[RowResult]:
    """One result per row, in order. Never raises for bad rows or a misbehaving model.

    Drivers explain a binary classifier's positive class and each row's
    predicted class of a multiclass one, or the class labelled `drivers_for`
    (to compare two rows on the same footing). With `drivers` off nothing is
    explained, and no row is told it has no drivers.
    """
    top_k = top_k or model.card.top_k
    results: dict[int, RowResult] = {}
    good: list[tuple[int, Mapping[str, object], CoercedRow]] = []
    for index, (row, coerced) in enumerate(zip(rows, model.schema.coerce_many(rows), strict=True)):
        if isinstance(coerced, CoercedRow):
            good.append((index, row, coerced))
        else:
            results[index] = RowResult(index, dict(row), errors=tuple(coerced))
    for index, result in zip((i for i, _, _ in good), _score_rows(model, good, top_k, drivers_for, drivers),
                             strict=True):
        results[index] = result
    return [results[i] for i in range(len(rows))]


def _score_rows(model: Model, batch: list, top_k: int, drivers_for: str | None,
                with_drivers: bool = True) -> list[RowResult]:
    if not batch:
        return []
    rows = [c.values for _, _, c in batch]
    fast = model.row_transform if len(rows) == 1 else None
    frame = None if fast else to_frame(model.schema, rows)
    try:
        transformed = fast(rows[0]) if fast else pipeline.transform(model.preprocessor,
                                                                    pipeline.as_fitted(model.estimator, frame))
        outputs = model.final.predict_proba(transformed) if model.is_classifier else model.final.predict(transformed)
    except Exception:  # noqa: BLE001 - shown to the user as ModelFailed, logged in full here
        if len(batch) > 1:  # find the row the model chokes on; the others still score
            return [result for item in batch for result in _score_rows(model, [item], top_k, drivers_for, with_drivers)]
        log.exception("model %s failed on row %d", model.name, batch[0][0])
        return [RowResult(batch[0][0], dict(batch[0][1]), errors=(ModelFailed(),))]
    explanation = _explain(model, rows, frame, transformed) if with_drivers else None
    if drivers_for not in model.labels and len(model.labels) == 2:
        drivers_for = model.positive_label
    results = []
    if model.is_classifier:         # once for the batch: per row, numpy's indexing costs more than the arithmetic
        chosen, shares = outputs.argmax(axis=1).tolist(), outputs.astype(float).tolist()
    for position, (index, row, coerced) in enumerate(batch):
        if model.is_classifier:
            column = chosen[position]
            prediction: object = model.labels[column]
            probabilities = dict(zip(model.labels, shares[position], strict=True))
        else:
            column, prediction, probabilities = 0, float(outputs[position]), {}
        drivers, scale, base, explained_label, warnings, output = (), "", None, "", coerced.warnings, None
        if explanation is None:
            warnings += (NoDrivers(),) if with_drivers else ()
        else:
            explained = model.labels.index(drivers_for) if drivers_for in model.labels else column
            contributions = explanation.contributions[position, :, explained]
            drivers = _top_drivers(model, row, coerced, contributions, top_k)
            scale, base = explanation.scale, float(explanation.base_values[explained])
            explained_label = model.labels[explained] if model.is_classifier else ""
            output = base + float(contributions.sum())
        results.append(RowResult(index, dict(row), prediction, probabilities, drivers, scale, base,
                                 explained_label, warnings, output=output))
    return results


def _explain(model: Model, rows: list[dict[str, object]], frame: pd.DataFrame | None,
             transformed: Any) -> Explanation | None:
    """The rows' explanation, or None; their DataFrame is built here if the fast path skipped it and it is read."""
    if model.explainer is None:
        return None
    try:
        if frame is None and reads_raw(model.explainer):
            frame = to_frame(model.schema, rows)
        return model.explainer.explain(frame, transformed)
    except Exception:  # noqa: BLE001 - a prediction without drivers beats no prediction
        log.exception("model %s: explaining %d row(s) failed", model.name, len(rows))
        return None


def _top_drivers(model: Model, row: Mapping[str, object], coerced: CoercedRow,
                 contributions: np.ndarray, top_k: int) -> tuple[Driver, ...]:
    features = {key: model.schema.feature(key) for key in row}
    given = {f.name: row[key] for key, f in features.items() if not isinstance(f, Problem)}
    order = np.argsort(-np.abs(contributions), kind="stable")[:top_k]
    names = model.schema.names
    return tuple(Driver(names[j], given.get(names[j], coerced.values[names[j]]), float(contributions[j]))
                 for j in order)
