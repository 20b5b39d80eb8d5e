"""A loaded model: the fitted pipeline plus everything needed to score and explain it.

Its explainer is built the first time drivers are asked for, not at load: building one imports shap and checks it
against the model on a few rows (a tenth of a second to seconds), which `predbot models`, `schema` and a
question about another model never need. Where requests are served, the registry builds it at load
(`Model.warm`), so that no request waits for it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from scoring import fastpath, pipeline
from scoring.card import CardError, ModelCard, check_fields, digest, load_card
from scoring.explain import Explainer, build_explainer
from scoring.fastpath import RowTransform
from scoring.importance import global_importance
from scoring.infer import infer_schema
from scoring.problems import Problem, listing
from scoring.schema import Kind, Schema, to_frame

log = logging.getLogger(__name__)

BACKGROUND_ROWS = 200


class ModelLoadError(Exception):
    """A model file that cannot be served; the message is for the operator's log."""


class BuiltOnFirstUse:
    """A Model's `explainer` field: what the constructor was given (None: no drivers), else the model's explainer,
    built from its own fields the first time it is read, once, however many threads read it then.

    A data descriptor, so that the field keeps its place in the constructor and in `dataclasses.replace` (which
    reads it, so a copy builds the explainer first, for both); the descriptor is its own default, standing for "not
    built yet".
    """

    _building = threading.Lock()

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, model: Model | None, owner: type | None = None) -> Any:
        if model is None:
            return self
        value = model.__dict__[self.name]
        if value is self:
            with self._building:
                value = model.__dict__[self.name]
                if value is self:
                    value = model.__dict__[self.name] = _explainer(model)
        return value

    def __set__(self, model: Model, value: Any) -> None:
        model.__dict__[self.name] = value

    def built(self, model: Model) -> bool:
        return model.__dict__[self.name] is not self


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
    # not in repr or ==, which would build it
    explainer: Explainer | None = field(default=BuiltOnFirstUse(), repr=False, compare=False)

    @cached_property
    def is_classifier(self) -> bool:
        """Cached, as `labels` is: scikit-learn works it out from estimator tags, several times per reply."""
        return pipeline.is_classifier_model(self.final)

    @property
    def kind(self) -> str:
        if not self.is_classifier:
            return "regression"
        return "binary classifier" if len(self.final.classes_) == 2 else "multiclass classifier"

    @cached_property
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

    @cached_property
    def row_transform(self) -> RowTransform | None:
        """One row as the final estimator takes it, without pandas (scoring.fastpath); None keeps the plain path.

        Worked out and checked against the pipeline on first use, which `load_model` makes, from the model's own
        fields: a copy with another preprocessor (dataclasses.replace) works out its own.
        """
        return fastpath.row_transform(self.name, self.schema, self.estimator, self.preprocessor, self.background)

    @property
    def explainer_built(self) -> bool:
        """Whether the explainer is there already: reading `explainer` builds it."""
        return Model.explainer.built(self)

    def warm(self) -> Model:
        """Build now what the first request for drivers would otherwise wait for: the explainer."""
        self.explainer  # noqa: B018 - built on first read
        return self

    @property
    def target(self) -> str:
        return self.card.target or ("class" if self.is_classifier else "prediction")

    @property
    def estimator_name(self) -> str:
        return type(self.final).__name__

    def field_name(self, key: str) -> str:
        """What the schema calls the field `key` means (an alias, other spacing); a key it does not know, as given."""
        feature = self.schema.feature(key)
        return key if isinstance(feature, Problem) else feature.name

    def typical_row(self) -> dict[str, object]:
        """A realistic row: each field's median or most common value in the background sample."""
        row: dict[str, object] = {}
        for feature in self.schema.features:
            column = self.background[feature.name].dropna() if len(self.background) else None
            if column is None or column.empty:
                row[feature.name] = feature.default()
            elif feature.kind is Kind.CATEGORICAL:
                row[feature.name] = column.mode().iloc[0]
            elif feature.kind is Kind.BOOLEAN:
                row[feature.name] = bool(column.mode().iloc[0])
            elif feature.kind is Kind.INTEGER:
                row[feature.name] = int(round(column.median()))
            else:
                row[feature.name] = float(f"{column.median():.3g}")
        return row


def model_files(directory: Path, name: str) -> list[Path]:
    """Every file whose content defines the model, in a fixed order."""
    files = [directory / f"{name}.joblib", directory / f"{name}.yaml"]
    files.append(background_path(directory, name, load_card(files[1])))
    return [f for f in files if f.exists()]


def background_path(directory: Path, name: str, card: ModelCard) -> Path:
    """The model's background sample: the card's `background:`, else NAME.background.csv."""
    return directory / (card.background or f"{name}.background.csv")


def content_version(contents: list[tuple[str, bytes]]) -> str:
    """A short hash of every (file name, bytes) that defines the model: its version in every reply."""
    version = hashlib.sha256()
    for name, data in contents:
        version.update(name.encode())
        version.update(data)
    return version.hexdigest()[:10]


def load_model(directory: Path, name: str, require_pin: bool = False) -> Model:
    """Load NAME.joblib with its card and background sample, or raise ModelLoadError.

    A joblib file is a pickle, so unpickling it runs code: the file's bytes are
    read once, checked against the card's pin, and unpickled from those same
    bytes, so the file cannot be swapped between the check and the load.
    """
    try:
        card = load_card(directory / f"{name}.yaml")
        files = model_files(directory, name)
        path = directory / f"{name}.joblib"
        data = path.read_bytes()
        check_pin(path, data, card, require_pin)
        estimator = _unpickled(path, data)
        if not hasattr(estimator, "predict"):
            raise ModelLoadError(f"{name}.joblib holds a {type(estimator).__name__}, not a fitted model")
        background = _background(directory, name, card)
        schema = infer_schema(estimator, background, card)
        check_fields(card, schema.names, f"{name}.yaml")
        check_background(background, schema.names, background_path(directory, name, card))
        preprocessor, final = pipeline.split(estimator)
        if background is None:
            log.warning("model %s has no background sample (%s.background.csv): no training ranges "
                        "and no drivers; save a few hundred training rows beside the model", name, name)
            sample = to_frame(schema, [])
        else:
            sample = to_frame(schema, [{f.name: f.value_or_none(r.get(f.name)) for f in schema.features}
                                       for r in background.to_dict("records")])
        contents = [(f.name, data if f == path else f.read_bytes()) for f in files]
        model = Model(name=name, version=content_version(contents), estimator=estimator,
                      preprocessor=preprocessor, final=final, schema=schema, card=card, background=sample)
        model.row_transform  # noqa: B018 - chosen, checked and logged at load, not on the first request
        return model
    except ModelLoadError:
        raise
    except CardError as error:      # its message names the card and the part of it that is wrong
        raise ModelLoadError(str(error)) from error
    except Exception as error:  # noqa: BLE001 - a model file can fail in any way; report it whole
        raise ModelLoadError(f"{type(error).__name__}: {error}") from error     # the registry names the model


def check_pin(path: Path, data: bytes, card: ModelCard, required: bool) -> None:
    """Refuse bytes the card does not vouch for, before anything unpickles them.

    The messages are for the operator's log: they name the file and give the
    digests, so a pin can be added (after checking the file) or a swap noticed.
    """
    actual = digest(data)
    if card.sha256 is None and required:
        raise ModelLoadError(f"{path} is not pinned and pins are required (--require-pins); after "
                             f"checking the file, add `sha256: {actual}` to {path.stem}.yaml")
    if card.sha256 is not None and card.sha256 != actual:
        raise ModelLoadError(f"{path} does not match its pin, so it was not unpickled: "
                             f"{path.stem}.yaml says sha256 {card.sha256}, the file's is {actual}")


def _unpickled(path: Path, data: bytes) -> Any:
    try:
        return joblib.load(io.BytesIO(data))
    except Exception as error:  # noqa: BLE001 - unpickling runs the file's code, which can fail in any way
        raise ModelLoadError(f"{path.name} cannot be unpickled: {type(error).__name__}: {error}") from error


def check_background(background: pd.DataFrame | None, fields: tuple[str, ...], path: Path) -> None:
    """Refuse a background sample that lacks some of the model's fields, naming them: its rows are the SHAP
    background and the training ranges, and a missing column would only surface as an estimator's NaN error."""
    if background is None:
        return
    missing = [f for f in fields if f not in background.columns]
    if missing:
        raise ModelLoadError(f"{path.name} lacks the model's column{'s' if len(missing) > 1 else ''} "
                             f"{listing(missing)}; save training rows with every field the model takes")


def _background(directory: Path, name: str, card: ModelCard) -> pd.DataFrame | None:
    path = background_path(directory, name, card)
    if not path.exists():
        return None
    frame = pd.read_csv(path, nrows=BACKGROUND_ROWS * 10)
    return frame.sample(n=min(len(frame), BACKGROUND_ROWS), random_state=0) if len(frame) else None


def _explainer(model: Model) -> Explainer | None:
    """The explainer the card asks for, else the one chosen automatically; None without a background sample (its
    rows are the SHAP background) or when none can be built."""
    if not len(model.background):
        return None
    name, method = model.name, model.card.explainer
    try:
        return build_explainer(model.estimator, model.schema.names, model.background, method=method)
    except ValueError as error:
        log.warning("model %s: explainer %r not usable (%s); choosing automatically", name, method, error)
    try:
        return build_explainer(model.estimator, model.schema.names, model.background)
    except Exception:  # noqa: BLE001 - predictions still work without drivers
        log.exception("model %s: no explainer; predictions will have no drivers", name)
        return None
