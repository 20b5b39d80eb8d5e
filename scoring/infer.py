"""Infer a model's schema from the fitted pipeline, its background sample and its card.

The card wins where it speaks; otherwise feature order comes from
`feature_names_in_`, categories from fitted encoders' `categories_`, kinds and
training ranges from the background sample, and whether a missing value is
acceptable from asking the model itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from scoring import pipeline
from scoring.card import ModelCard
from scoring.schema import Feature, Kind, Schema, to_frame


class SchemaError(ValueError):
    """The model's inputs cannot be worked out; the message says what to add."""


def infer_schema(model: Any, background: pd.DataFrame | None, card: ModelCard) -> Schema:
    names = feature_names(model, background, card)
    encoded = encoder_categories(model, names)
    features = []
    for name in names:
        column = background[name] if background is not None and name in background else None
        features.append(describe(name, column, encoded.get(name), card))
    schema = Schema(tuple(features))
    probe = probe_row(schema, background)
    return Schema(tuple(_with_imputable(f, model, schema, probe) for f in schema.features))


def feature_names(model: Any, background: pd.DataFrame | None, card: ModelCard) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    if card.features:
        return list(card.features)
    if background is not None:
        return [str(c) for c in background.columns]
    raise SchemaError("the model was fitted without column names; "
                      "list its features in the model card or save a background sample")


def encoder_categories(model: Any, names: Sequence[str] = ()) -> dict[str, list[Any]]:
    """Input column -> categories, for every fitted one-hot or ordinal encoder. `names` are the model's input
    columns in order, for a ColumnTransformer fitted on an array, which picks its columns by position and knows
    no names of its own."""
    found: dict[str, list[Any]] = {}
    for encoder, columns in _encoders(model, None, list(names)):
        for column, categories in zip(columns, encoder.categories_, strict=True):
            found[str(column)] = list(categories)
    return found


def _encoders(step: Any, columns: list[str] | None, names: list[str]) -> Iterator[tuple[Any, list[str]]]:
    if isinstance(step, Pipeline):
        yield from _encoders_in_steps([s for _, s in step.steps], columns, names)
    elif isinstance(step, ColumnTransformer):
        known = getattr(step, "feature_names_in_", None)
        known = names if known is None else [str(n) for n in known]
        for _, transformer, cols in step.transformers_:
            if isinstance(cols, str):
                cols = [cols]
            elif isinstance(cols, slice) or (len(cols) and isinstance(cols[0], (int, np.integer))):
                if not known:           # positions, and no names to give them: its categories stay unknown
                    continue
                cols = list(np.asarray(known)[cols])
            yield from _encoders(transformer, [str(c) for c in cols], names)
    elif isinstance(step, (OneHotEncoder, OrdinalEncoder)):
        cols = columns or [str(c) for c in getattr(step, "feature_names_in_", [])]
        if len(cols) == len(step.categories_):
            yield step, cols


def _encoders_in_steps(steps: list[Any], columns: list[str] | None,
                       names: list[str]) -> Iterator[tuple[Any, list[str]]]:
    # Only the leading steps see the original columns; stop at the first step that reshapes them.
    for step in steps:
        yield from _encoders(step, columns, names)
        if isinstance(step, (ColumnTransformer, OneHotEncoder, OrdinalEncoder)):
            return


def describe(name: str, column: pd.Series | None, categories: list[Any] | None,
             card: ModelCard) -> Feature:
    spec = card.features.get(name)
    kind = Kind(spec.kind) if spec and spec.kind else infer_kind(column, categories)
    listed: tuple[str, ...] = ()
    if kind is Kind.CATEGORICAL:
        if spec and spec.categories:
            listed = spec.categories
        elif categories is not None:
            listed = tuple(str(c) for c in categories if not _is_nan(c))
        elif column is not None:
            listed = tuple(sorted(str(c) for c in column.dropna().unique()))
    low, high = _range(column, kind)
    return Feature(
        name=name,
        kind=kind,
        description=spec.description if spec else "",
        unit=spec.unit if spec else None,
        aliases=spec.aliases if spec else (),
        low=spec.low if spec and spec.low is not None else low,
        high=spec.high if spec and spec.high is not None else high,
        categories=listed,
    )


def infer_kind(column: pd.Series | None, categories: list[Any] | None) -> Kind:
    if categories is not None:
        values = [c for c in categories if not _is_nan(c)]
        if values and all(isinstance(c, (bool, np.bool_)) for c in values):
            return Kind.BOOLEAN
        if not all(isinstance(c, (int, float, np.number)) for c in values):
            return Kind.CATEGORICAL
    if column is None:
        return Kind.NUMERIC
    values = column.dropna()
    if pd.api.types.is_bool_dtype(column) or (len(values) and values.map(type).isin([bool, np.bool_]).all()):
        return Kind.BOOLEAN
    if not pd.api.types.is_numeric_dtype(values):
        return Kind.CATEGORICAL
    # Whole numbers only where the training data's own type says so. A float column whose values happen to be
    # whole (pandas writes them `20000.0`, and reads them back as floats) takes any number, as the pipeline does;
    # a column of whole numbers with gaps is float too, so it errs the same way, towards accepting.
    return Kind.INTEGER if pd.api.types.is_integer_dtype(column) else Kind.NUMERIC


def _range(column: pd.Series | None, kind: Kind) -> tuple[float | None, float | None]:
    if column is None or kind not in (Kind.NUMERIC, Kind.INTEGER):
        return None, None
    values = pd.to_numeric(column, errors="coerce").dropna()
    return (float(values.min()), float(values.max())) if len(values) else (None, None)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and np.isnan(value)


def probe_row(schema: Schema, background: pd.DataFrame | None) -> dict[str, object]:
    """A typical complete row: the first background row, holes filled with plain defaults."""
    first = background.iloc[0] if background is not None and len(background) else None
    row: dict[str, object] = {}
    for feature in schema.features:
        value = feature.value_or_none(first.get(feature.name)) if first is not None else None
        row[feature.name] = feature.default() if value is None else value
    return row


def _with_imputable(feature: Feature, model: Any, schema: Schema, probe: dict[str, object]) -> Feature:
    """Ask the model whether it copes with this feature missing (an imputer, or native NaN support)."""
    try:
        model.predict(pipeline.as_fitted(model, to_frame(schema, [{**probe, feature.name: None}])))
    except Exception:  # noqa: BLE001 - any failure means "cannot be left out"
        return feature
    return replace(feature, imputable=True)
