"""Model-agnostic permutation SHAP on the raw pipeline, for models tree and linear SHAP cannot explain.

`scoring.explain` falls back to it (or uses it when forced). It lives apart
because it shares nothing with the tree and linear path beyond the task and
the Explanation: it works on raw rows, so it carries its own coding of raw
columns into the float matrix shap's masker mixes, its own sizing of
background and model evaluations against the time budget, and its own
isolation of thread pools and numpy's global generator.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shap
from threadpoolctl import threadpool_limits

from scoring import pipeline
from scoring.explanation import (
    MIN_BACKGROUND_ROWS,
    SEED,
    Explanation,
    Task,
    explanation,
)
from scoring.groups import is_number

log = logging.getLogger(__name__)

MAX_PERMUTATIONS = 10
_GLOBAL_STATE = threading.Lock()


class PermutationShap:
    """Model-agnostic SHAP on the raw pipeline, bounded to about `time_budget_s` a row.

    Rows are explained one at a time with the same seed, so a row's drivers do
    not depend on the batch it came in.
    """

    method = "permutation"

    def __init__(self, task: Task, time_budget_s: float) -> None:
        self.scale = "probability" if task.classifier else "target"
        self._task = task
        self._codec = _Codec.of(task.background)
        encoded = self._codec.encode(task.background)
        with _isolated():
            self.background_rows, self._max_evals = _permutation_size(
                self._predictor(self._codec), encoded, len(task.names), time_budget_s)
        rows = self.background_rows
        self._masker = shap.maskers.Independent(encoded[:rows], max_samples=rows)
        log.info("permutation explainer for %s: %d background rows, max_evals %d",
                 task.estimator_name, self.background_rows, self._max_evals)

    def _predictor(self, codec: _Codec) -> Callable[[np.ndarray], np.ndarray]:
        model = self._task.model
        predict = model.predict_proba if self._task.classifier else model.predict
        return lambda matrix: predict(pipeline.as_fitted(model, codec.decode(matrix)))

    def explain(self, raw: pd.DataFrame, transformed: Any) -> Explanation:
        raw = raw[self._task.names]
        codec = self._codec.including(raw)
        with _isolated():
            explainer = shap.PermutationExplainer(self._predictor(codec), self._masker, seed=SEED)
            rows = [self._explain_row(explainer, row) for row in codec.encode(raw)]
        contributions = np.stack([row.values[0] for row in rows])
        return explanation(self.scale, self._task.outputs, rows[0].base_values[0], contributions)

    def _explain_row(self, explainer: Any, row: np.ndarray) -> Any:
        np.random.seed(SEED)
        return explainer(row[None, :], max_evals=self._max_evals, silent=True)


def _permutation_size(predict: Callable[[np.ndarray], Any], encoded: np.ndarray, n_features: int,
                      time_budget_s: float) -> tuple[int, int]:
    """(background rows, max_evals) so that one row costs about `time_budget_s`.

    One antithetic permutation evaluates 2 * n_features + 1 masked rows against
    every background row, in one model call. The background shrinks (to 10
    rows at least) only if one permutation at full size busts the budget; then
    as many permutations as fit are run, from 1 to 10.
    """
    evals = 2 * n_features + 1
    rows = len(encoded)
    _seconds(predict, encoded[:1])
    fixed = _seconds(predict, encoded[:1])
    per_row = max(_seconds(predict, np.tile(encoded, (evals, 1))) - fixed, 1e-9) / (evals * rows)

    def permutation_cost(background_rows: int) -> float:
        return fixed + per_row * evals * background_rows

    if permutation_cost(rows) > time_budget_s:
        affordable = int((time_budget_s - fixed) / (per_row * evals))
        rows = min(rows, max(MIN_BACKGROUND_ROWS, affordable))
    permutations = int(np.clip(time_budget_s // permutation_cost(rows), 1, MAX_PERMUTATIONS))
    return rows, permutations * evals


def _seconds(function: Callable[[np.ndarray], Any], argument: np.ndarray) -> float:
    start = time.perf_counter()
    function(argument)
    return time.perf_counter() - start


@contextmanager
def _isolated() -> Iterator[None]:
    """One thread for the model's native code; numpy's global generator handed back untouched.

    The permutation explainer calls the model on batches of a few hundred
    rows. On a busy machine OpenMP threads waiting for each other made such a
    call up to 20 times slower than usual (HistGradientBoosting, 2 threads:
    6 ms median, 119 ms worst; one thread: 10 ms worst), which broke the time
    budget. shap's permutation explainer also reseeds and shuffles numpy's
    global generator, which belongs to the rest of the process; the lock keeps
    two explanations in different threads from reseeding under each other.
    """
    with _GLOBAL_STATE:
        state = np.random.get_state()
        try:
            with threadpool_limits(limits=1):
                yield
        finally:
            np.random.set_state(state)


@dataclass(frozen=True)
class _Codec:
    """Raw rows <-> the float matrix shap's masker mixes.

    Numbers stay numbers, NaN included. Any other column (strings, pandas
    categories, booleans) becomes an integer code into its list of values (so
    False/True are 0/1), NaN when missing. Decoding restores each column's
    dtype, so the pipeline sees rows like the ones it was trained on.
    """

    dtypes: dict[str, Any]
    values: dict[str, list[Any]]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Codec:
        coded = {name: _distinct(frame[name]) for name in frame.columns if not is_number(frame[name])}
        return cls(dict(frame.dtypes), coded)

    def including(self, frame: pd.DataFrame) -> _Codec:
        """This codec with codes for values it has not seen, decoding to the dtypes of `frame`.

        A pandas category dtype is widened to every known value: background
        values outside the explained rows' categories would turn into NaN.
        """
        values = {name: known + [v for v in _distinct(frame[name]) if v not in known]
                  for name, known in self.values.items()}
        dtypes = {name: _widened(dtype, values.get(name, [])) for name, dtype in frame.dtypes.items()}
        return _Codec(dtypes, values)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        return np.column_stack([self._encode(name, frame[name]) for name in self.dtypes])

    def _encode(self, name: str, column: pd.Series) -> np.ndarray:
        if name not in self.values:
            return column.to_numpy(dtype=float, na_value=np.nan)
        codes = pd.Index(self.values[name], dtype=object).get_indexer(column.astype(object))
        return np.where(codes < 0, np.nan, codes)

    def decode(self, matrix: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({name: self._decode(name, matrix[:, j]) for j, name in enumerate(self.dtypes)})

    def _decode(self, name: str, column: np.ndarray) -> pd.Series:
        if name not in self.values:
            return _restore(pd.Series(column), self.dtypes[name])
        table = np.array([*self.values[name], np.nan], dtype=object)
        codes = np.where(np.isnan(column), len(table) - 1, column).astype(int)
        return _restore(pd.Series(table[codes], dtype=object), self.dtypes[name])


def _restore(column: pd.Series, dtype: Any) -> pd.Series:
    """The column in its original dtype, unless that dtype cannot hold a missing value it now has."""
    if isinstance(dtype, np.dtype) and dtype.kind in "biu" and column.isna().any():
        return column
    return column.astype(dtype)


def _widened(dtype: Any, values: list[Any]) -> Any:
    if not isinstance(dtype, pd.CategoricalDtype):
        return dtype
    categories = list(dtype.categories)
    return pd.CategoricalDtype(categories + [v for v in values if v not in categories], ordered=dtype.ordered)


def _distinct(column: pd.Series) -> list[Any]:
    values = list(pd.unique(column.dropna()))
    return sorted(values) if all(isinstance(v, (bool, np.bool_)) for v in values) else values
