"""Global drivers of a model: mean |SHAP| per feature over its background sample."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scoring import pipeline

if TYPE_CHECKING:
    from scoring.model import Model


def global_importance(model: Model) -> tuple[str, tuple[tuple[str, float], ...]]:
    """(scale, features with their mean absolute contribution, biggest first).

    Binary classifiers are explained for their positive class; multiclass
    models average over every class.
    """
    if model.explainer is None or not len(model.background):
        return "", ()
    frame = model.background
    explanation = model.explainer.explain(frame, pipeline.transform(model.preprocessor,
                                                                     pipeline.as_fitted(model.estimator, frame)))
    magnitudes = np.abs(explanation.contributions)
    if model.is_classifier and len(model.labels) == 2:
        per_feature = magnitudes[:, :, model.labels.index(model.positive_label)].mean(axis=0)
    else:
        per_feature = magnitudes.mean(axis=(0, 2))
    order = np.argsort(-per_feature, kind="stable")
    return explanation.scale, tuple((model.schema.names[j], float(per_feature[j])) for j in order)
