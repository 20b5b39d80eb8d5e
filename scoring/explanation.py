"""What every explainer shares: the model it explains and the Explanation it returns.

A module of its own so that `scoring.explain` (tree and linear SHAP, and the
choice between methods) and `scoring.permutation` (the model-agnostic
fallback it ends with) both build on it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import is_classifier

from scoring import pipeline
from scoring.groups import column_owners

BACKGROUND_ROWS = 100
MIN_BACKGROUND_ROWS = 10
SEED = 0


@dataclass(frozen=True)
class Explanation:
    scale: str
    outputs: tuple[str, ...]
    base_values: np.ndarray
    contributions: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class Task:
    """What every explainer needs to know about the model it explains."""

    model: Any
    preprocessor: Any | None
    final: Any
    names: list[str]
    background: pd.DataFrame
    outputs: tuple[str, ...]
    classifier: bool

    @classmethod
    def of(cls, model: Any, names: list[str], background: pd.DataFrame) -> Task:
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
        return pipeline.transform(self.preprocessor, pipeline.as_fitted(self.model, frame))


def explanation(scale: str, outputs: tuple[str, ...], base: Any, contributions: np.ndarray) -> Explanation:
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
