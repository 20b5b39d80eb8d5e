"""A loaded model: the fitted pipeline plus everything needed to score and explain it."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from scoring import pipeline
from scoring.card import ModelCard, load_card
from scoring.explain import Explainer, build_explainer
from scoring.importance import global_importance
from scoring.infer import infer_schema
from scoring.schema import Schema, to_frame

log = logging.getLogger(__name__)

BACKGROUND_ROWS = 200


class ModelLoadError(Exception):
    """A model file that cannot be served; the message is for the operator's log."""


@dataclass(frozen=True)
class Model:
    name: str
    version: str
    estimator: Any
    preprocessor: Any | None
    final: Any
    schema: Schema
    card: ModelCard
    background: pd.DataFrame
    explainer: Explainer | None

    @property
    def is_classifier(self) -> bool:
        return pipeline.is_classifier_model(self.final)

    @property
    def kind(self) -> str:
        if not self.is_classifier:
            return "regression"
        return "binary classifier" if len(self.final.classes_) == 2 else "multiclass classifier"

    @property
    def labels(self) -> tuple[str, ...]:
        """Class labels as people read them: the card's names, else the model's classes."""
        if not self.is_classifier:
            return ()
        return tuple(self.card.classes.get(str(c), str(c)) for c in self.final.classes_)

    @property
    def positive_label(self) -> str:
        """The class a binary model is about: the card's positive class, else the second class."""
        if self.card.positive_class in self.labels:
            return self.card.positive_class
        return self.labels[-1]

    @cached_property
    def importance(self) -> tuple[str, tuple[tuple[str, float], ...]]:
        """Global drivers, computed once per loaded version (see scoring.importance)."""
        return global_importance(self)

    @property
    def target(self) -> str:
        return self.card.target or ("class" if self.is_classifier else "prediction")

    @property
    def estimator_name(self) -> str:
        return type(self.final).__name__


def model_files(directory: Path, name: str) -> list[Path]:
    """Every file whose content defines the model, in a fixed order."""
    files = [directory / f"{name}.joblib", directory / f"{name}.yaml"]
    card = load_card(files[1])
    files.append(directory / (card.background or f"{name}.background.csv"))
    return [f for f in files if f.exists()]


def content_version(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def load_model(directory: Path, name: str) -> Model:
    """Load NAME.joblib with its card and background sample, or raise ModelLoadError."""
    try:
        card = load_card(directory / f"{name}.yaml")
        files = model_files(directory, name)
        estimator = joblib.load(directory / f"{name}.joblib")
        if not hasattr(estimator, "predict"):
            raise ModelLoadError(f"{name}.joblib holds a {type(estimator).__name__}, not a fitted model")
        background = _background(directory, name, card)
        schema = infer_schema(estimator, background, card)
        preprocessor, final = pipeline.split(estimator)
        if background is None:
            log.warning("model %s has no background sample (%s.background.csv): no training ranges "
                        "and no drivers; save a few hundred training rows beside the model", name, name)
            sample, explainer = to_frame(schema, []), None
        else:
            sample = to_frame(schema, [{f.name: f.value_or_none(r.get(f.name)) for f in schema.features}
                                       for r in background.to_dict("records")])
            explainer = _explainer(estimator, schema, sample, card, name)
        return Model(name=name, version=content_version(files), estimator=estimator,
                     preprocessor=preprocessor, final=final, schema=schema, card=card,
                     background=sample, explainer=explainer)
    except ModelLoadError:
        raise
    except Exception as error:  # noqa: BLE001 - a model file can fail in any way; report it whole
        raise ModelLoadError(f"{name}: {type(error).__name__}: {error}") from error


def _background(directory: Path, name: str, card: ModelCard) -> pd.DataFrame | None:
    path = directory / (card.background or f"{name}.background.csv")
    if not path.exists():
        return None
    frame = pd.read_csv(path, nrows=BACKGROUND_ROWS * 10)
    return frame.sample(n=min(len(frame), BACKGROUND_ROWS), random_state=0) if len(frame) else None


def _explainer(estimator: Any, schema: Schema, background: pd.DataFrame, card: ModelCard,
               name: str) -> Explainer | None:
    try:
        return build_explainer(estimator, schema.names, background, method=card.explainer)
    except ValueError as error:
        log.warning("model %s: explainer %r not usable (%s); choosing automatically",
                    name, card.explainer, error)
    try:
        return build_explainer(estimator, schema.names, background)
    except Exception:  # noqa: BLE001 - predictions still work without drivers
        log.exception("model %s: no explainer; predictions will have no drivers", name)
        return None
