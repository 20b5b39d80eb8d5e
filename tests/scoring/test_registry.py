import logging
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from scoring.card import CardError, card_from_dict
from scoring.demo import write_model
from scoring.model import Model
from scoring.registry import ModelUnavailable, NoDefaultModel, Registry, UnknownModel
from scoring.schema import Kind


def toy_data(seed=0, rows=120):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(20, 70, rows),
        "income": rng.normal(50_000, 10_000, rows).round(2),
        "colour": rng.choice(["red", "green", "blue"], rows),
        "member": rng.random(rows) < 0.5,
    })
    target = np.where(frame["age"] + rng.normal(0, 5, rows) > 45, "old", "young")
    return frame, target


def toy_pipeline(trees=10):
    prepare = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "income"]),
        ("cat", OneHotEncoder(), ["colour"]),
        ("flag", "passthrough", ["member"]),
    ])
    return Pipeline([("prepare", prepare), ("model", RandomForestClassifier(trees, max_depth=4, random_state=0))])


@pytest.fixture
def models(tmp_path):
    frame, target = toy_data()
    write_model(tmp_path, "toy", toy_pipeline().fit(frame, target), frame, {"description": "A toy"})
    return tmp_path


def test_schema_is_inferred_from_pipeline_and_background(models):
    model = Registry(models).get("toy")
    assert isinstance(model, Model)
    features = {f.name: f for f in model.schema.features}
    assert list(features) == ["age", "income", "colour", "member"]
    assert features["age"].kind is Kind.INTEGER
    assert features["income"].kind is Kind.NUMERIC
    assert features["colour"].kind is Kind.CATEGORICAL
    assert features["colour"].categories == ("blue", "green", "red")  # from the encoder's categories_
    assert features["member"].kind is Kind.BOOLEAN
    frame, _ = toy_data()
    background = pd.read_csv(models / "toy.background.csv")
    assert features["age"].low == background["age"].min() and features["age"].high == background["age"].max()
    # the imputer fills age and income, the forest handles a missing flag itself,
    # and the strict one-hot encoder refuses a missing colour
    assert [f.imputable for f in features.values()] == [True, True, False, True]
    assert model.kind == "binary classifier" and model.labels == ("old", "young")
    assert model.card.description == "A toy"


def test_card_overrides_inference(tmp_path):
    frame, target = toy_data()
    card = {"target": "age group", "classes": {"old": "over 45", "young": "45 or under"},
            "features": {"age": {"description": "Age", "unit": "years", "aliases": ["years"], "min": 0, "max": 120},
                         "member": {"kind": "boolean"}}}
    write_model(tmp_path, "toy", toy_pipeline().fit(frame, target), frame, card)
    model = Registry(tmp_path).get("toy")
    age = model.schema.feature("years")
    assert (age.name, age.unit, age.low, age.high) == ("age", "years", 0, 120)
    assert model.labels == ("over 45", "45 or under")
    assert model.target == "age group"


def test_version_is_a_short_content_hash_that_follows_the_files(models):
    registry = Registry(models)
    first = registry.get("toy").version
    assert len(first) == 10 and int(first, 16) >= 0
    assert Registry(models).get("toy").version == first  # same bytes, same version
    frame, target = toy_data(seed=1)
    write_model(models, "toy", toy_pipeline(trees=12).fit(frame, target), frame, {"description": "Retrained"})
    bump_mtime(models / "toy.joblib")
    reloaded = registry.get("toy")
    assert reloaded.version != first
    assert reloaded.card.description == "Retrained"


def bump_mtime(path):
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_corrupt_new_file_leaves_the_old_model_serving(models, caplog):
    registry = Registry(models)
    old = registry.get("toy")
    (models / "toy.joblib").write_bytes(b"this is not a pickle")
    bump_mtime(models / "toy.joblib")
    with caplog.at_level(logging.ERROR, logger="scoring.registry"):
        still = registry.get("toy")
    assert still is old
    assert "toy not loaded" in caplog.text and "previous version keeps serving" in caplog.text


def test_a_broken_card_also_keeps_the_old_model(models, caplog):
    registry = Registry(models)
    old = registry.get("toy")
    (models / "toy.yaml").write_text("explainer: magic\n")
    with caplog.at_level(logging.ERROR, logger="scoring.registry"):
        assert registry.get("toy") is old
    assert "explainer must be one of auto, tree, linear, permutation" in caplog.text


def test_a_model_that_never_loaded_is_unavailable_without_leaking_paths(tmp_path):
    (tmp_path / "broken.joblib").write_bytes(b"\x00garbage")
    problem = Registry(tmp_path).get("broken")
    assert isinstance(problem, ModelUnavailable)
    assert str(tmp_path) not in problem.message and "joblib" not in problem.message


def test_unknown_model_suggests_a_name(registry):
    problem = registry.get("chrun")
    assert isinstance(problem, UnknownModel)
    assert problem.message == "There is no model called 'chrun'. Did you mean 'churn'?"


def test_model_names_match_case_insensitively(registry):
    assert registry.get("IRIS").name == "iris"


def test_default_model_comes_from_the_card_or_is_the_only_one(registry, models, tmp_path):
    assert registry.default_name == "churn"  # its card says default: true
    assert Registry(models).get(None).name == "toy"  # the only model
    frame, target = toy_data()
    for name in ("a", "b"):
        write_model(tmp_path, name, toy_pipeline().fit(frame, target), frame, {})
    assert isinstance(Registry(tmp_path).get(None), NoDefaultModel)
    assert Registry(tmp_path, default="b").get(None).name == "b"


def test_a_model_without_background_still_predicts(tmp_path):
    frame = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) * 2})
    model = LinearRegression().fit(frame, frame["x"] * 3 + frame["y"])
    write_model(tmp_path, "lin", model, frame, {})
    (tmp_path / "lin.background.csv").unlink()
    loaded = Registry(tmp_path).get("lin")
    assert loaded.explainer is None and loaded.schema.names == ("x", "y")


@pytest.mark.parametrize("card, message", [
    ({"top_k": 0}, "top_k must be a positive whole number"),
    ({"colour": "red"}, "unknown keys: colour"),
    ({"features": {"age": {"kind": "date"}}}, "kind must be one of"),
    ({"features": {"age": {"min": "low"}}}, "min and max must be numbers"),
])
def test_card_errors_say_what_is_wrong(card, message):
    with pytest.raises(CardError, match=message):
        card_from_dict(card, "toy.yaml")
