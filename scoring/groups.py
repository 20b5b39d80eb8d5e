"""Which original input feature each transformed column comes from.

Tree and linear explainers attribute a prediction to the columns the final
estimator sees; people asked about their own inputs. `column_owners` finds,
once per model, the input feature behind every transformed column by probing:
it transforms the background sample, then copies of it where one input column
is altered (cycled through every value it can take, shifted, partly missing),
and records which transformed columns change. One-hot columns, missing-value
indicators and scaled copies all land on their input column; a column that
moves with several inputs (PCA, polynomial interactions, KNN imputation)
cannot be split fairly, so the model is reported as ungroupable and explained
on its raw inputs instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from scoring import pipeline
from scoring.infer import encoder_categories


class Ungroupable(ValueError):
    """Transformed columns cannot be summed back to single input features."""


def dense(matrix: Any) -> np.ndarray:
    """A transformed batch as a float array (sparse and DataFrame outputs included)."""
    if sparse.issparse(matrix):
        matrix = matrix.toarray()
    try:
        return np.asarray(matrix, dtype=float)
    except (TypeError, ValueError) as error:
        raise Ungroupable(f"the transformed rows are not all numbers ({error})") from error


def is_number(column: pd.Series) -> bool:
    """A numeric column that is not boolean."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def column_owners(preprocessor: Any | None, feature_names: Sequence[str],
                  background: pd.DataFrame) -> np.ndarray:
    """Index into `feature_names` of the input feature behind each transformed column.

    Raises Ungroupable when a transformed column depends on several input
    features, or never changes and cannot be placed from the ColumnTransformer.
    """
    if preprocessor is None:
        return np.arange(len(feature_names))
    base = dense(preprocessor.transform(pipeline.as_fitted(preprocessor, background)))
    depends = np.zeros((base.shape[1], len(feature_names)), dtype=bool)
    categories = encoder_categories(preprocessor, feature_names)
    for j, name in enumerate(feature_names):
        depends[:, j] = _changed_by(preprocessor, background, name, categories.get(name, []), base)
    mixed = np.flatnonzero(depends.sum(axis=1) > 1)
    if len(mixed):
        inputs = [feature_names[j] for j in np.flatnonzero(depends[mixed[0]])]
        raise Ungroupable(f"transformed column {mixed[0]} mixes the inputs {', '.join(inputs)}")
    owners = np.where(depends.any(axis=1), depends.argmax(axis=1), -1)
    return _place_constant_columns(owners, preprocessor, feature_names, background)


def sum_by_owner(values: np.ndarray, owners: np.ndarray, n_features: int) -> np.ndarray:
    """(rows, transformed columns, outputs) -> (rows, input features, outputs)."""
    membership = np.zeros((len(owners), n_features))
    membership[np.arange(len(owners)), owners] = 1.0
    return np.einsum("rco,cf->rfo", values, membership)


def _changed_by(preprocessor: Any, background: pd.DataFrame, name: str, known: list[Any],
                base: np.ndarray) -> np.ndarray:
    """Transformed columns that move when only column `name` changes."""
    probes = _probes(background[name], known)
    stacked = pd.concat([background.assign(**{name: p}) for p in probes], ignore_index=True)
    transformed = dense(preprocessor.transform(pipeline.as_fitted(preprocessor, stacked)))
    changed = _differs(transformed, np.tile(base, (len(probes), 1)))
    for risky in _risky_probes(background[name]):
        try:
            altered = pipeline.as_fitted(preprocessor, background.assign(**{name: risky}))
            changed |= _differs(dense(preprocessor.transform(altered)), base)
        except Exception:  # noqa: BLE001 - a pipeline that rejects such values has no column for them
            pass
    return changed


def _probes(column: pd.Series, known: list[Any]) -> list[pd.Series]:
    """Altered copies of a column that, between them, flip every value-dependent output.

    Each row takes the values `domain[(i + s) % k]` for shifts s and s + 1, so
    every known value both appears and disappears in some row; numbers are also
    shifted by one, which moves a constant column.
    """
    domain = _domain(column, known)
    rows, k = len(column), len(domain)
    shifts = [s + d for s in range(0, max(k, 1), max(rows, 1)) for d in (0, 1)]
    probes = [_like(column, [domain[(i + s) % k] for i in range(rows)]) for s in shifts]
    if is_number(column):
        probes.append(column + 1)
    return probes


def _domain(column: pd.Series, known: list[Any]) -> list[Any]:
    values = list(pd.unique(column.dropna()))
    values += [v for v in known if not _is_missing(v) and v not in values]
    if values:
        return values
    return [False, True] if pd.api.types.is_bool_dtype(column) else [0.0, 1.0]


def _risky_probes(column: pd.Series) -> list[pd.Series]:
    """Copies with every other value missing, or (for non-numbers) an unseen value.

    These reach missing-value indicators and the all-zero one-hot row of an
    unknown category, which show up as constant columns otherwise.
    """
    alternate = np.arange(len(column)) % 2 == 0
    probes = [column.mask(alternate)]
    if not is_number(column):
        probes.append(_like(column, list(column.astype(object).where(~alternate, "\x00unseen"))))
    return probes


def _like(column: pd.Series, values: list[Any]) -> pd.Series:
    """Values as a Series with the column's index and, when it can hold them, its dtype."""
    try:
        return pd.Series(values, index=column.index, dtype=column.dtype)
    except (TypeError, ValueError):
        return pd.Series(values, index=column.index, dtype=object)


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return ~same.all(axis=0)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _place_constant_columns(owners: np.ndarray, preprocessor: Any, feature_names: Sequence[str],
                            background: pd.DataFrame) -> np.ndarray:
    """Give columns that never moved to the first input of their ColumnTransformer part.

    Such a column is constant on every probed row, so on those rows it carries
    no attribution whichever feature holds it; it only needs an owner so that
    nothing is dropped from the sum.
    """
    constant = np.flatnonzero(owners < 0)
    if not len(constant):
        return owners
    column_transformer = _column_transformer(preprocessor)
    if column_transformer is None:
        raise Ungroupable(f"transformed column {constant[0]} never changed while probing "
                          "and cannot be traced to an input")
    position = {name: j for j, name in enumerate(feature_names)}
    for part, inputs in _parts(column_transformer, background):
        where = column_transformer.output_indices_[part]
        columns = [c for c in constant if where.start <= c < where.stop]
        if columns and inputs:
            owners[columns] = position[inputs[0]]
    if (owners < 0).any():
        raise Ungroupable(f"transformed column {np.flatnonzero(owners < 0)[0]} never changed "
                          "while probing and belongs to no input column")
    return owners


def _column_transformer(preprocessor: Any) -> ColumnTransformer | None:
    """The ColumnTransformer whose output is the final estimator's input, if that is what it is."""
    if isinstance(preprocessor, Pipeline) and len(preprocessor.steps) == 1:
        preprocessor = preprocessor.steps[0][1]
    return preprocessor if isinstance(preprocessor, ColumnTransformer) else None


def _parts(column_transformer: ColumnTransformer, background: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """(part name, its input column names) for each fitted part, remainder included."""
    template = background.iloc[:0]
    parts = []
    for part, _, columns in column_transformer.transformers_:
        if callable(columns):
            columns = columns(background)
        if isinstance(columns, str):
            columns = [columns]
        positional = isinstance(columns, slice) and not isinstance(columns.start or columns.stop, str)
        positional |= not isinstance(columns, slice) and np.asarray(columns).dtype.kind in "iub"
        selected = template.iloc[:, columns] if positional else template.loc[:, columns]
        parts.append((part, [str(c) for c in selected.columns]))
    return parts
