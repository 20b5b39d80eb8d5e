"""SHAP drivers per original input feature, for any fitted scikit-learn model.

`build_explainer` picks one of three ways once per model and does everything
expensive then; the registry reuses the result for every call.

- tree: `shap.TreeExplainer` on the final estimator over transformed rows,
  interventional against a transformed background of at most 100 rows, so
  classifier drivers are probability points (multiclass HistGradientBoosting:
  raw margins, which shap cannot turn into probabilities).
- linear: `shap.LinearExplainer` on the final estimator; classifiers on the
  log-odds scale of `decision_function`.
- permutation: `shap.PermutationExplainer` on the whole raw pipeline, for
  everything else and wherever the first two would be wrong or too slow.

Tree and linear attributions arrive per transformed column and are summed back
to input features with the mapping from `scoring.groups`. Both are checked at
build time against scikit-learn's own output on two background rows and used
only if base value plus contributions reproduces it; the same run measures the
cost of a row against `time_budget_s`. Trees reach shap with rank-coded
thresholds (see `_RankCodedTrees`), without which shap's float32 thresholds
route some rows differently from scikit-learn. The permutation explainer adds
up by construction; its background size and number of model evaluations are
sized from the measured cost of a model call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import pandas as pd
import shap
from sklearn.base import is_classifier
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from threadpoolctl import threadpool_limits

from scoring import pipeline
from scoring.groups import column_owners, dense, is_number, sum_by_owner

log = logging.getLogger(__name__)

METHODS = ("auto", "tree", "linear", "permutation")
BACKGROUND_ROWS = 100
MIN_BACKGROUND_ROWS = 10
MAX_PERMUTATIONS = 10
CHECK_ROWS = 2
SECONDS_PER_CALL = 5.0
TOLERANCE = 1e-6
SEED = 0
TREE_MODELS = (
    DecisionTreeClassifier, DecisionTreeRegressor, RandomForestClassifier, RandomForestRegressor,
    ExtraTreesClassifier, ExtraTreesRegressor, GradientBoostingClassifier, GradientBoostingRegressor,
    HistGradientBoostingClassifier, HistGradientBoostingRegressor,
)
LOGISTIC_MODELS = (LogisticRegression, SGDClassifier)
_GLOBAL_STATE = threading.Lock()


@dataclass(frozen=True)
class Explanation:
    scale: str
    outputs: tuple[str, ...]
    base_values: np.ndarray
    contributions: np.ndarray
    values: np.ndarray


class Explainer(Protocol):
    method: str
    scale: str

    def explain(self, raw: pd.DataFrame, transformed: Any) -> Explanation: ...


class NotApplicable(ValueError):
    """This explainer cannot explain this model faithfully, or not within the time budget."""


def build_explainer(model: Any, feature_names: Sequence[str], background: pd.DataFrame,
                    *, method: str = "auto", time_budget_s: float = 0.5) -> Explainer:
    """The explainer for `model`, chosen by model family unless `method` forces one.

    A forced method that cannot handle the model raises ValueError saying why.
    "auto" tries tree, then linear, and ends with permutation, which explains
    anything that predicts. Only "auto" leaves a tree explainer that stays
    over the time budget after shrinking its background.
    """
    if method not in METHODS:
        raise ValueError(f"explainer method must be one of {', '.join(METHODS)}, not {method!r}")
    if not len(background):
        raise ValueError("an explainer needs at least one background row")
    task = _Task.of(model, list(feature_names), background)
    if method == "tree":
        return _tree(task, time_budget_s, strict_budget=False)
    if method == "linear":
        return _linear(task)
    if method == "auto":
        for name, build in (("tree", lambda: _tree(task, time_budget_s, strict_budget=True)),
                            ("linear", lambda: _linear(task))):
            try:
                return build()
            except ValueError as why:
                log.info("%s explainer not used for %s: %s", name, task.estimator_name, why)
    return PermutationShap(task, time_budget_s)


@dataclass(frozen=True)
class _Task:
    """What every explainer needs to know about the model it explains."""

    model: Any
    preprocessor: Any | None
    final: Any
    names: list[str]
    background: pd.DataFrame
    outputs: tuple[str, ...]
    classifier: bool

    @classmethod
    def of(cls, model: Any, names: list[str], background: pd.DataFrame) -> _Task:
        preprocessor, final = pipeline.split(model)
        classifier = is_classifier(final)
        if classifier and not hasattr(final, "predict_proba"):
            raise ValueError(f"{type(final).__name__} has no predict_proba, so there are no "
                             "class probabilities to explain")
        outputs = tuple(str(c) for c in final.classes_) if classifier else ("prediction",)
        sample = background[names].sample(n=min(len(background), BACKGROUND_ROWS), random_state=SEED)
        return cls(model, preprocessor, final, names, sample, outputs, classifier)

    @property
    def estimator_name(self) -> str:
        return type(self.final).__name__

    @cached_property
    def owners(self) -> np.ndarray:
        """Input feature behind each transformed column (probed once, shared by tree and linear)."""
        return column_owners(self.preprocessor, self.names, self.background)

    def transform(self, frame: pd.DataFrame) -> Any:
        return pipeline.transform(self.preprocessor, frame)


def _explanation(scale: str, outputs: tuple[str, ...], base: Any, contributions: np.ndarray) -> Explanation:
    """Assemble an Explanation; a single output for two classes becomes one per class.

    Class 0's output is the complement of class 1's on the probability scale and
    its negation on a margin scale, so both columns add up.
    """
    base = np.atleast_1d(np.asarray(base, dtype=float)).ravel()
    if contributions.ndim == 2:
        contributions = contributions[..., None]
    if len(outputs) == 2 and contributions.shape[2] == 1:
        first = 1 - base if scale == "probability" else -base
        base = np.concatenate([first, base])
        contributions = np.concatenate([-contributions, contributions], axis=2)
    return Explanation(scale, outputs, base, contributions, base + contributions.sum(axis=1))


@dataclass(frozen=True)
class ColumnShap:
    """Tree or linear SHAP over transformed columns, summed back to input features.

    Rows go to shap in calls of `rows_per_call`: shap's tree code draws a
    progress bar on stderr once a single call runs past 10 seconds.
    """

    method: str
    scale: str
    outputs: tuple[str, ...]
    owners: np.ndarray
    n_features: int
    shap_explainer: Any
    prepare: Callable[[Any], np.ndarray]
    background_rows: int
    rows_per_call: int = 1_000_000

    def explain(self, raw: pd.DataFrame, transformed: Any) -> Explanation:
        rows = self.prepare(transformed)
        values = np.concatenate([self._values(rows[start:start + self.rows_per_call])
                                 for start in range(0, len(rows), self.rows_per_call)])
        contributions = sum_by_owner(values, self.owners, self.n_features)
        return _explanation(self.scale, self.outputs, self.shap_explainer.expected_value, contributions)

    def _values(self, rows: np.ndarray) -> np.ndarray:
        values = np.asarray(self.shap_explainer.shap_values(rows), dtype=float)
        return values[..., None] if values.ndim == 2 else values


def _tree(task: _Task, time_budget_s: float, strict_budget: bool) -> ColumnShap:
    """TreeExplainer, with its background shrunk (to 10 rows at least) if a row costs more than the budget.

    Interventional cost grows with trees x leaves x background rows: a deep
    forest can take far longer per row than the budget. Fewer background rows
    keep the values exact Shapley values against a smaller reference sample;
    if even that is too slow, "auto" moves on (to permutation).
    """
    _check_tree_model(task)
    owners = task.owners
    scale, model_output = _tree_output(task)
    trees = _RankCodedTrees(task.final)
    background = trees(task.transform(task.background))

    def make(rows: int) -> ColumnShap:
        explainer = shap.TreeExplainer(trees.model, data=background[:rows], model_output=model_output,
                                       feature_perturbation="interventional")
        return ColumnShap("tree", scale, task.outputs, owners, len(task.names), explainer, trees, rows)

    explainer, rows = make(len(background)), len(background)
    cost = _checked_cost(explainer, task)
    if cost > time_budget_s and rows > MIN_BACKGROUND_ROWS:
        rows = max(MIN_BACKGROUND_ROWS, int(rows * time_budget_s / cost))
        explainer = make(rows)
        cost = _checked_cost(explainer, task)
    if cost > time_budget_s and strict_budget:
        raise NotApplicable(f"TreeExplainer takes {cost * 1000:.0f} ms a row even with {rows} "
                            f"background rows, over the {time_budget_s} s budget")
    log.info("tree explainer for %s: %d background rows, %.1f ms a row",
             task.estimator_name, rows, cost * 1000)
    return replace(explainer, rows_per_call=max(1, int(SECONDS_PER_CALL / max(cost, 1e-6))))


def _check_tree_model(task: _Task) -> None:
    name = task.estimator_name
    if not isinstance(task.final, TREE_MODELS):
        raise NotApplicable(f"{name} is not a tree model TreeExplainer reads")
    categorical = getattr(task.final, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        raise NotApplicable(f"{name} splits natively on categorical features, "
                            "which TreeExplainer explains wrongly without noticing")
    if isinstance(task.final, GradientBoostingClassifier) and len(task.outputs) > 2:
        raise NotApplicable("TreeExplainer reads GradientBoostingClassifier with two classes only")


def _tree_output(task: _Task) -> tuple[str, str]:
    """(scale, shap model_output)."""
    if not task.classifier:
        return "target", "raw"
    if isinstance(task.final, HistGradientBoostingClassifier) and len(task.outputs) > 2:
        return "raw score", "raw"
    return "probability", "probability"


class _RankCodedTrees:
    """The final estimator's trees as shap reads them, with every split threshold replaced by its rank.

    shap's interventional tree code keeps thresholds as float32, while
    scikit-learn compares float32 values (trees, forests, gradient boosting) or
    float64 values (HistGradientBoosting) against float64 thresholds that often
    equal training values or lie within a float32 step of each other. Rows near
    such a split then go one way in scikit-learn and the other in shap, and the
    contributions miss the prediction (measured: 1e-3 in probability for
    HistGradientBoosting, 48 on a forest regressor predicting about 50,000)
    without shap's own additivity check noticing. Here the k-th smallest
    threshold on a feature becomes k + 0.5 and each value the number of that
    feature's thresholds below it, which routes every row exactly as
    scikit-learn does, in any precision.
    """

    def __init__(self, final: Any) -> None:
        ensemble = shap.TreeExplainer(final).model
        self._dtype = ensemble.input_dtype
        self._splits = _thresholds_by_feature(ensemble.trees)
        stacks = ensemble.num_stacked_models
        self.model = {
            "trees": [self._coded(tree, i % stacks if stacks > 1 else None, ensemble.num_outputs)
                      for i, tree in enumerate(ensemble.trees)],
            "base_offset": ensemble.base_offset, "objective": ensemble.objective,
            "tree_output": ensemble.tree_output, "input_dtype": np.float64, "internal_dtype": np.float64,
        }

    def _coded(self, tree: Any, stack: int | None, n_outputs: int) -> dict[str, np.ndarray]:
        """One tree as a shap tree dictionary; a stacked multiclass model's trees get a column per class."""
        thresholds = np.zeros(len(tree.thresholds))
        for node in np.flatnonzero(tree.children_left >= 0):
            ranks = self._splits[int(tree.features[node])]
            thresholds[node] = np.searchsorted(ranks, tree.thresholds[node]) + 0.5
        values = np.asarray(tree.values, dtype=float)
        if stack is not None:
            values = np.zeros((len(values), n_outputs))
            values[:, stack] = tree.values[:, 0]
        return {"children_left": tree.children_left, "children_right": tree.children_right,
                "children_default": tree.children_default, "features": tree.features,
                "thresholds": thresholds, "values": values, "node_sample_weight": tree.node_sample_weight}

    def __call__(self, transformed: Any) -> np.ndarray:
        """Rows coded as ranks, after the cast to the precision scikit-learn compares in."""
        rows = dense(transformed).astype(self._dtype).astype(float)
        coded = np.zeros_like(rows)
        for feature, thresholds in self._splits.items():
            column = rows[:, feature]
            coded[:, feature] = np.where(np.isnan(column), np.nan, np.searchsorted(thresholds, column))
        return coded


def _thresholds_by_feature(trees: list[Any]) -> dict[int, np.ndarray]:
    """Sorted distinct split thresholds of each feature used in any tree."""
    internal = [tree.children_left >= 0 for tree in trees]
    features = np.concatenate([tree.features[split] for tree, split in zip(trees, internal)])
    thresholds = np.concatenate([tree.thresholds[split] for tree, split in zip(trees, internal)])
    return {int(f): np.unique(thresholds[features == f]) for f in np.unique(features)}


def _linear(task: _Task) -> ColumnShap:
    _check_linear_model(task)
    linear = shap.LinearExplainer(task.final, dense(task.transform(task.background)))
    scale = "log-odds" if task.classifier else "target"
    explainer = ColumnShap("linear", scale, task.outputs, task.owners, len(task.names), linear, dense,
                           len(task.background))
    _checked_cost(explainer, task)
    return explainer


def _check_linear_model(task: _Task) -> None:
    name = task.estimator_name
    if not (hasattr(task.final, "coef_") and hasattr(task.final, "intercept_")):
        raise NotApplicable(f"{name} is not a linear model")
    if task.classifier and not isinstance(task.final, LOGISTIC_MODELS):
        raise NotApplicable(f"{name}'s decision function is not the log-odds of its probabilities")
    if isinstance(task.final, SGDClassifier) and task.final.loss != "log_loss":
        raise NotApplicable(f"SGDClassifier with loss={task.final.loss!r} has no log-odds margin")


def _checked_cost(explainer: ColumnShap, task: _Task) -> float:
    """Seconds per row, after checking that the explanation adds up to scikit-learn's own output.

    The tolerance is relative for outputs above 1: shap's tree code sums in
    float32 (measured: 3.5e-4 off on predictions near 50,000).
    """
    rows = task.background.iloc[:CHECK_ROWS]
    transformed = task.transform(rows)
    start = time.perf_counter()
    explanation = explainer.explain(rows, transformed)
    cost = (time.perf_counter() - start) / len(rows)
    expected = _model_output(task.final, explanation.scale, transformed)
    error = float(np.max(np.abs(explanation.values - expected)))
    if not error <= TOLERANCE * max(1.0, float(np.max(np.abs(expected)))):
        raise NotApplicable(f"its values miss the model's {explanation.scale} by {error:.2g}")
    return cost


def _model_output(final: Any, scale: str, transformed: Any) -> np.ndarray:
    """What scikit-learn itself says on `scale`, one column per output."""
    if scale == "probability":
        return final.predict_proba(transformed)
    if scale == "target":
        return np.asarray(final.predict(transformed), dtype=float).reshape(-1, 1)
    margin = final.decision_function(transformed)
    return np.column_stack([-margin, margin]) if margin.ndim == 1 else margin


class PermutationShap:
    """Model-agnostic SHAP on the raw pipeline, bounded to about `time_budget_s` a row.

    Rows are explained one at a time with the same seed, so a row's drivers do
    not depend on the batch it came in.
    """

    method = "permutation"

    def __init__(self, task: _Task, time_budget_s: float) -> None:
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
        predict = self._task.model.predict_proba if self._task.classifier else self._task.model.predict
        return lambda matrix: predict(codec.decode(matrix))

    def explain(self, raw: pd.DataFrame, transformed: Any) -> Explanation:
        raw = raw[self._task.names]
        codec = self._codec.including(raw)
        with _isolated():
            explainer = shap.PermutationExplainer(self._predictor(codec), self._masker, seed=SEED)
            rows = [self._explain_row(explainer, row) for row in codec.encode(raw)]
        contributions = np.stack([row.values[0] for row in rows])
        return _explanation(self.scale, self._task.outputs, rows[0].base_values[0], contributions)

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

