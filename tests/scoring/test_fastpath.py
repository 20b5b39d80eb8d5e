"""The fast single-row path: taken only where it gives what the pipeline's own transform gives, and scoring the same."""

import dataclasses
import logging
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)

from scoring import fastpath, pipeline
from scoring.demo import write_model
from scoring.model import load_model
from scoring.schema import Feature, Kind, Schema, to_frame
from scoring.score import score

DEMOS = ("churn", "iris", "diabetes")


def plain(model):
    """A copy of `model` that keeps the plain path: a cached_property's value lives in the instance's __dict__."""
    copy = dataclasses.replace(model)
    vars(copy)["row_transform"] = None
    return copy


def records(model, count: int | None = None) -> list[dict[str, object]]:
    """Background rows as coerced rows are: None where a value is missing."""
    rows = model.background.iloc[:count].to_dict("records")
    return [{k: None if isinstance(v, float) and np.isnan(v) else v for k, v in row.items()} for row in rows]


def edge_rows(model) -> list[dict[str, object]]:
    """The first background row with each field missing, with an unseen category in each categorical field, and
    with every field missing."""
    [first] = records(model, 1)
    rows = [{**first, name: None} for name in model.schema.names]
    rows += [{**first, f.name: "no such category"} for f in model.schema.features if f.kind is Kind.CATEGORICAL]
    return rows + [dict.fromkeys(model.schema.names)]


def outcome(transform, row):
    try:
        return transform(row)
    except Exception as error:  # noqa: BLE001 - a refusal is an outcome to compare
        return error


def plain_transform(model, row):
    return pipeline.transform(model.preprocessor, pipeline.as_fitted(model.estimator, to_frame(model.schema, [row])))


def as_array(matrix) -> np.ndarray:
    if sparse.issparse(matrix):
        return matrix.toarray()
    return matrix.to_numpy() if isinstance(matrix, pd.DataFrame) else matrix


def assert_same_as_pipeline(model, rows) -> None:
    """The fast path gives exactly what the pipeline's transform gives, container and dtype included, or both
    refuse the row."""
    for row in rows:
        ours, theirs = outcome(model.row_transform, row), outcome(lambda r: plain_transform(model, r), row)
        if isinstance(theirs, Exception):
            assert isinstance(ours, Exception), row
            continue
        assert type(ours) is type(theirs), row
        if isinstance(theirs, pd.DataFrame):
            pd.testing.assert_frame_equal(ours, theirs)
        assert as_array(ours).dtype == as_array(theirs).dtype, row
        np.testing.assert_array_equal(as_array(ours), as_array(theirs), err_msg=str(row))


@pytest.mark.parametrize("name", DEMOS)
def test_every_demo_model_takes_the_fast_path_and_it_equals_the_pipelines_transform(name, registry):
    model = registry.get(name)
    assert model.row_transform is not None
    assert_same_as_pipeline(model, records(model) + edge_rows(model))


@pytest.mark.parametrize("name", DEMOS)
def test_the_log_says_which_path_a_model_took(name, registry, caplog):
    model = registry.get(name)
    with caplog.at_level(logging.INFO, logger="scoring.fastpath"):
        fastpath.row_transform(name, model.schema, model.estimator, model.preprocessor, model.background)
    assert f"{name}: fast single-row path (checked on {len(model.background)} background rows" in caplog.text


@pytest.mark.parametrize("name", DEMOS)
def test_single_row_scores_equal_the_plain_paths_exactly(name, registry):
    model = registry.get(name)
    slow = plain(model)
    for row in records(model, 30) + edge_rows(model):
        assert score(model, [row]) == score(slow, [row]), row


def test_a_single_row_reaches_a_tree_or_linear_explainer_without_a_dataframe(churn, iris, monkeypatch):
    def no_frames(*args):
        raise AssertionError("a DataFrame was built")

    monkeypatch.setattr("scoring.score.to_frame", no_frames)
    for model in (churn, iris):
        [result] = score(model, records(model, 1))
        assert result.ok and result.drivers, model.name


class Doubled(TransformerMixin, BaseEstimator):
    """A data scientist's own step: the fast path cannot know what its transform does."""

    def fit(self, x, y=None):
        return self

    def transform(self, x):
        return np.asarray(x, dtype=float) * 2


def customer_data(rows: int = 300) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, rows).astype(float),
        "income": rng.normal(50_000, 15_000, rows).round(),
        "fee": rng.uniform(10, 90, rows).round(2),
        "calls": rng.poisson(2, rows).astype(float),
        "autopay": (rng.random(rows) < 0.5).astype(float),
        "plan": rng.choice(["basic", "standard", "premium"], rows),
        "region": rng.choice(["north", "south", "east"], rows).astype(object),
    })
    for column in ("income", "fee", "calls", "plan", "region"):
        frame.loc[rng.random(rows) < 0.1, column] = np.nan
    target = np.where(frame["age"].to_numpy() + rng.normal(0, 15, rows) > 48, "yes", "no")
    return frame, target


def every_step() -> Pipeline:
    """Each step the fast path rebuilds, nested, with a sparse output and a passthrough remainder."""
    prepare = ColumnTransformer([
        ("scaled", make_pipeline(SimpleImputer(strategy="mean", add_indicator=True), StandardScaler()),
         ["age", "income"]),
        ("ranged", make_pipeline(SimpleImputer(strategy="median"), MinMaxScaler(clip=True)), ["fee"]),
        ("robust", make_pipeline(SimpleImputer(strategy="constant", fill_value=0.0), RobustScaler(), MaxAbsScaler()),
         ["calls"]),
        ("plan", make_pipeline(SimpleImputer(strategy="most_frequent"), FunctionTransformer(),
                               OneHotEncoder(drop="first", handle_unknown="error")), ["plan"]),
        ("region", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2),
         ["region"]),
    ], remainder="passthrough", sparse_threshold=1.0)
    return Pipeline([("prepare", prepare), ("model", LogisticRegression(max_iter=1000))])


def custom_step() -> Pipeline:
    prepare = ColumnTransformer([("doubled", Doubled(), ["age"]),
                                 ("rest", SimpleImputer(strategy="median"), ["income", "fee", "calls", "autopay"])])
    return Pipeline([("prepare", prepare), ("model", LogisticRegression(max_iter=1000))])


@pytest.fixture(scope="module")
def own_models(tmp_path_factory):
    frame, target = customer_data()
    directory = tmp_path_factory.mktemp("fastpath")
    write_model(directory, "every_step", every_step().fit(frame, target), frame, {})
    numbers = frame[["age", "income", "fee", "calls", "autopay"]]
    write_model(directory, "custom", custom_step().fit(numbers, target), numbers, {})
    return directory


def test_every_step_it_rebuilds_equals_the_pipelines_transform_nested_and_sparse(own_models):
    model = load_model(own_models, "every_step")
    assert model.row_transform is not None
    assert sparse.issparse(model.row_transform(records(model, 1)[0]))
    rows = records(model) + edge_rows(model) + [{**records(model, 1)[0], "fee": 500.0}]     # clipped
    assert any(isinstance(outcome(model.row_transform, row), ValueError) for row in rows)  # an unseen plan
    assert_same_as_pipeline(model, rows)


def test_a_pipeline_fitted_on_arrays_takes_the_fast_path_by_column_position():
    frame, target = customer_data()
    frame = frame[["age", "fee", "autopay"]].fillna(50.0)
    estimator = make_pipeline(
        ColumnTransformer([("ranged", MinMaxScaler(), [1]), ("scaled", StandardScaler(), [0, 2])]),
        LogisticRegression(max_iter=1000)).fit(frame.to_numpy(), target)
    schema = Schema(tuple(Feature(name, Kind.NUMERIC) for name in frame.columns))
    preprocessor, _ = pipeline.split(estimator)
    background = to_frame(schema, frame.to_dict("records"))
    model = SimpleNamespace(schema=schema, estimator=estimator, preprocessor=preprocessor, background=background,
                            row_transform=fastpath.row_transform("arrays", schema, estimator, preprocessor, background))
    assert model.row_transform is not None
    assert_same_as_pipeline(model, records(model) + edge_rows(model))


def test_a_pipeline_with_a_custom_transformer_takes_the_plain_path_and_scores_as_before(own_models, caplog):
    with caplog.at_level(logging.INFO, logger="scoring.fastpath"):
        model = load_model(own_models, "custom")
    assert model.row_transform is None
    assert "custom: plain path: Doubled is not a step it rebuilds" in caplog.text
    row = {"age": 40, "income": 52_000, "fee": None, "calls": 1, "autopay": True}
    [result] = score(model, [row])
    expected = model.estimator.predict_proba(to_frame(model.schema, [row]))[0]
    assert list(result.probabilities.values()) == list(expected)
    assert result.drivers


def test_a_fast_path_that_differs_from_the_pipeline_is_not_taken(iris, monkeypatch, caplog):
    def off(scaler):
        exact = fastpath._standard(scaler)
        return lambda x: exact(x) * (1 + 1e-6)

    monkeypatch.setitem(fastpath.LEAVES, StandardScaler, off)
    with caplog.at_level(logging.INFO, logger="scoring.fastpath"):
        copy = dataclasses.replace(iris)
        assert copy.row_transform is None
    assert "iris: plain path: it differs from the pipeline on background row 0" in caplog.text
    row = records(iris, 1)[0]
    assert score(copy, [row]) == score(plain(iris), [row])


def test_a_fast_path_that_takes_a_row_the_pipeline_refuses_is_not_taken(own_models, monkeypatch, caplog):
    model = load_model(own_models, "every_step")
    position = fastpath._Codes.position
    monkeypatch.setattr(fastpath._Codes, "position", lambda self, value, column, strict: position(self, value, column,
                                                                                                   strict=False))
    with caplog.at_level(logging.INFO, logger="scoring.fastpath"):
        assert dataclasses.replace(model).row_transform is None
    assert "with an unseen plan, the pipeline refuses the row and it does not" in caplog.text


def test_a_model_without_a_background_sample_keeps_the_plain_path(own_models, tmp_path, caplog):
    for suffix in (".joblib", ".yaml"):
        (tmp_path / f"every_step{suffix}").write_bytes((own_models / f"every_step{suffix}").read_bytes())
    with caplog.at_level(logging.INFO, logger="scoring.fastpath"):
        model = load_model(tmp_path, "every_step")
    assert model.row_transform is None
    assert "every_step: plain path: no background sample to check it on" in caplog.text
