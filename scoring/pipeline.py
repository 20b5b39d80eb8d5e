"""Split a fitted model into its preprocessing part and its final estimator.

Scoring transforms each row once with the preprocessing part and hands the
transformed row to both the final estimator and the explainer.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline


def split(model: Any) -> tuple[Any | None, Any]:
    """(preprocessor or None, final estimator) of a fitted estimator or Pipeline."""
    if isinstance(model, Pipeline):
        if len(model.steps) == 1:
            return None, model.steps[0][1]
        return model[:-1], model[-1]
    return None, model


def transform(preprocessor: Any | None, frame: pd.DataFrame) -> Any:
    """Rows as the final estimator sees them."""
    return frame if preprocessor is None else preprocessor.transform(frame)


def as_fitted(estimator: Any, frame: pd.DataFrame) -> Any:
    """Rows in the form `estimator` was fitted on: a bare array for one fitted on arrays, else the DataFrame.

    scikit-learn warns on every call that passes column names to an estimator
    fitted without them; one fitted with them checks the names, so it keeps them.
    """
    return frame if takes_names(estimator) else frame.to_numpy()


def takes_names(estimator: Any) -> bool:
    """Whether `estimator` is given a DataFrame (see `as_fitted`) rather than a bare array."""
    return not hasattr(estimator, "n_features_in_") or hasattr(estimator, "feature_names_in_")


def is_classifier_model(model: Any) -> bool:
    return is_classifier(model) and hasattr(model, "predict_proba")
