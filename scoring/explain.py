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
  everything else and wherever the first two would be wrong or too slow
  (`scoring.permutation`).

Tree and linear attributions arrive per transformed column and are summed back
to input features with the mapping from `scoring.groups`. Both are checked at
build time against scikit-learn's own output on two background rows and used
only if base value plus contributions reproduces it; the same run measures the
cost of a row against `time_budget_s`. Trees reach shap with rank-coded
thresholds (see `scoring.rankcoded`), without which shap's float32 thresholds
route some rows differently from scikit-learn. The permutation explainer adds
up by construction; its background size and number of model evaluations are
sized from the measured cost of a model call.

shap (and the modules that build on it) is imported only when an explainer is
built, so that what only reads a model (`predbot models`, `schema`) never
waits for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd
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

from scoring.explanation import (
    BACKGROUND_ROWS,
    MIN_BACKGROUND_ROWS,
    SEED,
    Explanation,
    Task,
    explanation,
)
from scoring.groups import dense, sum_by_owner

__all__ = [
    "BACKGROUND_ROWS", "CHECK_ROWS", "LOGISTIC_MODELS", "METHODS", "MIN_BACKGROUND_ROWS", "SECONDS_PER_CALL",
    "SEED", "TOLERANCE", "TREE_MODELS", "ColumnShap", "Explainer", "Explanation", "NotApplicable",
    "build_explainer", "reads_raw",
]

log = logging.getLogger(__name__)

METHODS = ("auto", "tree", "linear", "permutation")
CHECK_ROWS = 2
SECONDS_PER_CALL = 5.0
TOLERANCE = 1e-6
TREE_MODELS = (
    DecisionTreeClassifier, DecisionTreeRegressor, RandomForestClassifier, RandomForestRegressor,
    ExtraTreesClassifier, ExtraTreesRegressor, GradientBoostingClassifier, GradientBoostingRegressor,
    HistGradientBoostingClassifier, HistGradientBoostingRegressor,
)
LOGISTIC_MODELS = (LogisticRegression, SGDClassifier)


class Explainer(Protocol):
    method: str
    scale: str

    def explain(self, raw: pd.DataFrame | None, transformed: Any) -> Explanation:
        """The rows' drivers, from their raw and their transformed form; raw is None where not `reads_raw`."""


def reads_raw(explainer: Explainer) -> bool:
    """Whether `explainer.explain` reads its raw rows: tree and linear SHAP read only the transformed ones, so a
    caller that has no DataFrame of the rows need not build one for them."""
    return not isinstance(explainer, ColumnShap)


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
    task = Task.of(model, list(feature_names), background)
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
    from scoring.permutation import PermutationShap

    return PermutationShap(task, time_budget_s)


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

    def explain(self, raw: pd.DataFrame | None, transformed: Any) -> Explanation:
        rows = self.prepare(transformed)
        values = np.concatenate([self._values(rows[start:start + self.rows_per_call])
                                 for start in range(0, len(rows), self.rows_per_call)])
        contributions = sum_by_owner(values, self.owners, self.n_features)
        return explanation(self.scale, self.outputs, self.shap_explainer.expected_value, contributions)

    def _values(self, rows: np.ndarray) -> np.ndarray:
        values = np.asarray(self.shap_explainer.shap_values(rows), dtype=float)
        return values[..., None] if values.ndim == 2 else values


def _tree(task: Task, time_budget_s: float, strict_budget: bool) -> ColumnShap:
    """TreeExplainer, with its background shrunk (to 10 rows at least) if a row costs more than the budget.

    Interventional cost grows with trees x leaves x background rows: a deep
    forest can take far longer per row than the budget. Fewer background rows
    keep the values exact Shapley values against a smaller reference sample;
    if even that is too slow, "auto" moves on (to permutation).
    """
    import shap

    from scoring.rankcoded import RankCodedTrees

    _check_tree_model(task)
    owners = task.owners
    scale, model_output = _tree_output(task)
    trees = RankCodedTrees(task.final)
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


def _check_tree_model(task: Task) -> None:
    name = task.estimator_name
    if not isinstance(task.final, TREE_MODELS):
        raise NotApplicable(f"{name} is not a tree model TreeExplainer reads")
    categorical = getattr(task.final, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        raise NotApplicable(f"{name} splits natively on categorical features, "
                            "which TreeExplainer explains wrongly without noticing")
    if isinstance(task.final, GradientBoostingClassifier) and len(task.outputs) > 2:
        raise NotApplicable("TreeExplainer reads GradientBoostingClassifier with two classes only")


def _tree_output(task: Task) -> tuple[str, str]:
    """(scale, shap model_output)."""
    if not task.classifier:
        return "target", "raw"
    if isinstance(task.final, HistGradientBoostingClassifier) and len(task.outputs) > 2:
        return "raw score", "raw"
    return "probability", "probability"


def _linear(task: Task) -> ColumnShap:
    import shap

    _check_linear_model(task)
    linear = shap.LinearExplainer(task.final, dense(task.transform(task.background)))
    scale = "log-odds" if task.classifier else "target"
    explainer = ColumnShap("linear", scale, task.outputs, task.owners, len(task.names), linear, dense,
                           len(task.background))
    _checked_cost(explainer, task)
    return explainer


def _check_linear_model(task: Task) -> None:
    name = task.estimator_name
    if not (hasattr(task.final, "coef_") and hasattr(task.final, "intercept_")):
        raise NotApplicable(f"{name} is not a linear model")
    if task.classifier and not isinstance(task.final, LOGISTIC_MODELS):
        raise NotApplicable(f"{name}'s decision function is not the log-odds of its probabilities")
    if isinstance(task.final, SGDClassifier) and task.final.loss != "log_loss":
        raise NotApplicable(f"SGDClassifier with loss={task.final.loss!r} has no log-odds margin")


def _checked_cost(explainer: ColumnShap, task: Task) -> float:
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
