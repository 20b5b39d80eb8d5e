"""Kinds from what the model was trained on: whole numbers only where the training data's type says so."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from scoring.demo import write_model
from scoring.infer import infer_kind
from scoring.registry import Registry
from scoring.schema import Kind
from scoring.score import score


def payments(rows: int = 200) -> tuple[pd.DataFrame, np.ndarray]:
    """A data scientist's own frame: a count, a float amount that happens to be whole, and a category."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "visits": rng.integers(0, 30, rows),
        "amount": rng.integers(1, 50, rows) * 1000.0,
        "channel": rng.choice(["web", "shop", "phone"], rows),
    })
    return frame, np.where(frame["amount"] + rng.normal(0, 5000, rows) > 25_000, "large", "small")


@pytest.fixture(scope="module")
def own_model(tmp_path_factory):
    frame, target = payments()
    prepare = ColumnTransformer([("numbers", "passthrough", ["visits", "amount"]),
                                 ("channel", OneHotEncoder(handle_unknown="ignore"), ["channel"])])
    model = Pipeline([("prepare", prepare), ("model", RandomForestClassifier(20, random_state=0))])
    directory = tmp_path_factory.mktemp("own")
    write_model(directory, "payments", model.fit(frame, target), frame, {})
    registry = Registry(directory)
    registry.refresh()
    return registry.get("payments")


def test_a_float_column_of_whole_numbers_takes_any_number(own_model):
    kinds = {f.name: f.kind for f in own_model.schema.features}
    assert kinds == {"visits": Kind.INTEGER, "amount": Kind.NUMERIC, "channel": Kind.CATEGORICAL}
    [result] = score(own_model, [{"visits": 3, "amount": "20000.50", "channel": "web"}])
    assert result.ok, result.reason
    assert result.prediction in ("large", "small")


@pytest.mark.parametrize("column, kind", [
    (pd.Series([1.0, 2.0, 20000.0]), Kind.NUMERIC),           # floats that happen to be whole
    (pd.Series([1, 2, 20000]), Kind.INTEGER),                # an integer dtype
    (pd.Series([1.0, np.nan, 3.0]), Kind.NUMERIC),           # whole numbers with gaps are floats to pandas
    (pd.Series([0.5, 1.5]), Kind.NUMERIC),
])
def test_whole_numbers_only_from_an_integer_dtype(column, kind):
    assert infer_kind(column, None) is kind


def test_a_pipeline_fitted_on_a_plain_array_loads_with_its_categories_under_the_background_s_names(tmp_path):
    """A ColumnTransformer fitted on an array picks columns by position and knows no names; the background's
    columns, in the order it was fitted on, name them."""
    frame, target = payments()
    prepare = ColumnTransformer([("numbers", "passthrough", [0, 1]),
                                 ("channel", OneHotEncoder(handle_unknown="ignore"), [2])])
    model = Pipeline([("prepare", prepare), ("model", RandomForestClassifier(20, random_state=0))])
    write_model(tmp_path, "arrays", model.fit(frame.to_numpy(), target), frame, {})
    registry = Registry(tmp_path)
    registry.refresh()
    loaded = registry.get("arrays")
    channel = next(f for f in loaded.schema.features if f.name == "channel")
    assert channel.kind is Kind.CATEGORICAL and sorted(channel.categories) == ["phone", "shop", "web"]
    [result] = score(loaded, [{"visits": 3, "amount": 20000, "channel": "Web"}])
    assert result.ok and result.prediction in ("large", "small") and result.drivers
