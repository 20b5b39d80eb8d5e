"""Explanations per original input feature, checked against scikit-learn itself.

Every case is a real pipeline on a small seeded data set with a float column
with missing values, a whole-number column, a string category with missing
values, a boolean and a constant category no model can use. The sums are
compared with what scikit-learn predicts, never with what shap says.
"""

from functools import cache

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.svm import SVC

from scoring import pipeline
from scoring.explain import MIN_BACKGROUND_ROWS, build_explainer
from scoring.groups import Ungroupable, column_owners
from scoring.permutation import _Codec

NAMES = ["income", "age", "plan", "autopay", "channel"]


@cache
def data() -> tuple[pd.DataFrame, np.ndarray]:
    """300 customers and a hidden score that depends on every column but `channel`."""
    rng = np.random.default_rng(20260401)
    rows = 300
    frame = pd.DataFrame({
        "income": rng.normal(50_000, 12_000, rows).round(2),
        "age": rng.integers(18, 80, rows),
        "plan": pd.Series(rng.choice(["basic", "plus", "pro"], rows), dtype=object),
        "autopay": rng.random(rows) < 0.5,
        "channel": pd.Series(["web"] * rows, dtype=object),
    })
    frame.loc[rng.random(rows) < 0.1, "income"] = np.nan
    frame.loc[rng.random(rows) < 0.1, "plan"] = np.nan
    score = ((frame["income"].fillna(50_000) - 50_000) / 12_000 + (frame["age"] - 50) / 15
             + frame["plan"].map({"basic": -1.0, "plus": 0.0, "pro": 1.0}).fillna(0.0)
             + 0.8 * frame["autopay"] + rng.normal(0, 0.5, rows))
    return frame, score.to_numpy()


def targets(kind: str) -> np.ndarray:
    score = data()[1]
    if kind == "binary":
        return np.where(score > 0, "churns", "stays")
    if kind == "multiclass":  # classes_ is ("high", "low", "mid"): not the order of the score
        return np.select([score < -0.7, score < 0.7], ["low", "mid"], "high")
    return 50_000 + 8_000 * score


def prepare(sparse: bool = False) -> ColumnTransformer:
    numeric = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    categorical = make_pipeline(SimpleImputer(strategy="most_frequent"),
                                OneHotEncoder(handle_unknown="ignore", sparse_output=sparse))
    return ColumnTransformer([("num", numeric, ["income", "age"]),
                              ("cat", categorical, ["plan", "autopay", "channel"])],
                             sparse_threshold=1.0 if sparse else 0.0)


def native_codes() -> ColumnTransformer:
    codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan)
    return ColumnTransformer([("codes", codes, ["plan", "channel"])], remainder="passthrough")


# case: (steps before the estimator, estimator, target, expected method, expected scale)
CASES = {
    "forest": (prepare, lambda: RandomForestClassifier(n_estimators=25, max_depth=5, random_state=0),
               "binary", "tree", "probability"),
    "boosting": (prepare, lambda: GradientBoostingClassifier(n_estimators=40, random_state=0),
                 "binary", "tree", "probability"),
    "boosting-multiclass": (prepare, lambda: GradientBoostingClassifier(n_estimators=15, random_state=0),
                            "multiclass", "permutation", "probability"),
    "histogram": (prepare, lambda: HistGradientBoostingClassifier(max_iter=40, random_state=0),
                  "binary", "tree", "probability"),
    "histogram-multiclass": (prepare, lambda: HistGradientBoostingClassifier(max_iter=30, random_state=0),
                             "multiclass", "tree", "raw score"),
    "logistic": (prepare, lambda: LogisticRegression(max_iter=1000), "binary", "linear", "log-odds"),
    "logistic-sparse": (lambda: prepare(sparse=True), lambda: LogisticRegression(max_iter=1000),
                        "binary", "linear", "log-odds"),
    "logistic-multiclass": (prepare, lambda: LogisticRegression(max_iter=1000), "multiclass", "linear", "log-odds"),
    # unlimited depth and a target near 50,000: where shap's float32 thresholds went wrong
    "forest-regressor": (prepare, lambda: RandomForestRegressor(n_estimators=25, random_state=0),
                         "regression", "tree", "target"),
    "ridge": (prepare, Ridge, "regression", "linear", "target"),
    "svc": (prepare, lambda: CalibratedClassifierCV(SVC(random_state=0), ensemble=False),
            "binary", "permutation", "probability"),
    "knn": (prepare, KNeighborsClassifier, "multiclass", "permutation", "probability"),
    "pca": (lambda: make_pipeline(prepare(), PCA(n_components=3)), lambda: LogisticRegression(max_iter=1000),
            "binary", "permutation", "probability"),
    "native-categorical": (native_codes, lambda: HistGradientBoostingClassifier(
        categorical_features=[0, 1], max_iter=30, random_state=0), "binary", "permutation", "probability"),
    "native-from-dtype": (None, lambda: HistGradientBoostingClassifier(
        categorical_features="from_dtype", max_iter=30, random_state=0), "binary", "permutation", "probability"),
}


def raw(case: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows as the case's model takes them: pandas categories for the bare native-categorical model."""
    if CASES[case][0] is None:
        return frame.astype({"plan": "category", "channel": "category"})
    return frame


@cache
def model(case: str) -> Pipeline:
    steps, estimator, target, _, _ = CASES[case]
    parts = [("prepare", steps())] if steps else []
    return Pipeline([*parts, ("model", estimator())]).fit(raw(case, data()[0]), targets(target))


def background(case: str) -> pd.DataFrame:
    return raw(case, data()[0].sample(n=200, random_state=1))


def budget(case: str) -> float:
    """Seconds a row: the least evaluations where permutation is expected, to keep those cases
    quick; the default elsewhere, so a busy machine cannot push a tree model onto the fallback."""
    return 0.03 if CASES[case][3] == "permutation" else 0.5


@cache
def explainer(case: str):
    return build_explainer(model(case), NAMES, background(case), time_budget_s=budget(case))


def rows() -> pd.DataFrame:
    """Rows to explain: some missing income, some missing plan, some complete."""
    frame = data()[0]
    picked = pd.concat([frame[frame["income"].isna()].head(3), frame[frame["plan"].isna()].head(3),
                        frame.dropna().head(4)])
    return picked.reset_index(drop=True)


@cache
def explained(case: str):
    """The case's explanation of `rows()`, computed once."""
    return explain(explainer(case), case, rows())


def explain(chosen, case: str, frame: pd.DataFrame):
    frame = raw(case, frame)
    preprocessor, _ = pipeline.split(model(case))
    return chosen.explain(frame, pipeline.transform(preprocessor, frame))


def sklearn_output(case: str, scale: str, frame: pd.DataFrame) -> np.ndarray:
    """scikit-learn's own output on `scale`, one column per class (or one for a regressor)."""
    fitted, frame = model(case), raw(case, frame)
    if scale == "probability":
        return fitted.predict_proba(frame)
    if scale == "target":
        return fitted.predict(frame).reshape(-1, 1)
    margin = fitted.decision_function(frame)
    return np.column_stack([-margin, margin]) if margin.ndim == 1 else margin


def assert_adds_up(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal to 1e-6; relative to the size above 1, because shap's tree code sums in float32
    (a forest regressor predicting about 50,000 comes out a few 1e-3 off)."""
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6 * max(1.0, np.abs(expected).max()))


@pytest.mark.parametrize("case", CASES)
def test_method_and_scale_follow_the_model_family(case):
    _, _, _, method, scale = CASES[case]
    assert (explainer(case).method, explainer(case).scale) == (method, scale)


@pytest.mark.parametrize("case", CASES)
def test_base_plus_contributions_is_what_scikit_learn_predicts(case):
    explanation = explained(case)
    expected = sklearn_output(case, explanation.scale, rows())
    classes = getattr(model(case), "classes_", None)
    assert explanation.outputs == (tuple(classes) if classes is not None else ("prediction",))
    assert explanation.contributions.shape == (len(rows()), len(NAMES), len(explanation.outputs))
    assert explanation.base_values.shape == (len(explanation.outputs),)
    assert_adds_up(explanation.base_values + explanation.contributions.sum(axis=1), expected)
    assert_adds_up(explanation.values, expected)


@pytest.mark.parametrize("case", CASES)
def test_a_column_the_model_cannot_use_gets_nothing(case):
    explanation = explained(case)
    assert np.all(explanation.contributions[:, NAMES.index("channel")] == 0)
    assert np.any(explanation.contributions[:, NAMES.index("plan")] != 0)


@pytest.mark.parametrize("case", CASES)
def test_against_a_single_reference_row_only_the_changed_category_gets_credit(case):
    reference = data()[0].dropna().iloc[[0]].reset_index(drop=True)
    changed = reference.assign(plan="basic" if reference.at[0, "plan"] != "basic" else "pro")
    single = build_explainer(model(case), NAMES, raw(case, reference), time_budget_s=budget(case))
    explanation = explain(single, case, changed)
    others = [NAMES.index(n) for n in NAMES if n != "plan"]
    assert np.all(explanation.contributions[0, others] == 0)
    moved = sklearn_output(case, explanation.scale, changed) - sklearn_output(case, explanation.scale, reference)
    assert_adds_up(explanation.contributions[:, NAMES.index("plan")], moved)


@pytest.mark.parametrize("case", ["logistic", "logistic-multiclass", "ridge"])
def test_in_an_additive_model_changing_the_plan_moves_only_the_plan_contribution(case):
    before = rows().dropna().reset_index(drop=True)
    after = before.assign(plan=before["plan"].map({"basic": "plus", "plus": "pro", "pro": "basic"}))
    moved = explain(explainer(case), case, after).contributions - explain(explainer(case), case, before).contributions
    assert np.any(moved[:, NAMES.index("plan")] != 0)
    np.testing.assert_allclose(np.delete(moved, NAMES.index("plan"), axis=1), 0, atol=1e-12)


@pytest.mark.parametrize("case", ["logistic", "boosting"])
def test_a_binary_model_with_one_margin_mirrors_class_zero(case):
    explanation = explained(case)
    np.testing.assert_array_equal(explanation.contributions[..., 0], -explanation.contributions[..., 1])
    if explanation.scale == "probability":
        assert explanation.base_values[0] == pytest.approx(1 - explanation.base_values[1])
        np.testing.assert_allclose(explanation.values.sum(axis=1), 1)
    else:
        assert explanation.base_values[0] == -explanation.base_values[1]


@pytest.mark.parametrize("case", ["histogram-multiclass", "logistic-multiclass", "boosting-multiclass"])
def test_multiclass_outputs_follow_classes_order(case):
    explanation = explained(case)
    assert explanation.outputs == ("high", "low", "mid")
    predicted = np.asarray(explanation.outputs)[explanation.values.argmax(axis=1)]
    np.testing.assert_array_equal(predicted, model(case).predict(rows()))


@pytest.mark.parametrize("case, method", [("forest", "permutation"), ("logistic", "permutation"),
                                          ("ridge", "permutation"), ("boosting", "tree"), ("ridge", "linear")])
def test_a_forced_method_is_used(case, method):
    forced = build_explainer(model(case), NAMES, background(case), method=method, time_budget_s=0.03)
    assert forced.method == method
    explanation = explain(forced, case, rows().head(3))
    assert_adds_up(explanation.values, sklearn_output(case, forced.scale, rows().head(3)))


@pytest.mark.parametrize("case, method, reason", [
    ("forest", "linear", "RandomForestClassifier is not a linear model"),
    ("svc", "linear", "CalibratedClassifierCV is not a linear model"),
    ("logistic", "tree", "LogisticRegression is not a tree model"),
    ("boosting-multiclass", "tree", "two classes only"),
    ("native-categorical", "tree", "splits natively on categorical features"),
    ("native-from-dtype", "tree", "splits natively on categorical features"),
    ("pca", "linear", "mixes the inputs"),
    ("pca", "tree", "not a tree model"),
])
def test_a_forced_method_that_cannot_explain_the_model_says_why(case, method, reason):
    with pytest.raises(ValueError, match=reason):
        build_explainer(model(case), NAMES, background(case), method=method)


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="must be one of auto, tree, linear, permutation"):
        build_explainer(model("forest"), NAMES, background("forest"), method="magic")


def test_a_tree_explainer_over_budget_gives_way_to_permutation_unless_forced():
    assert build_explainer(model("forest"), NAMES, background("forest"), time_budget_s=1e-9).method == "permutation"
    forced = build_explainer(model("forest"), NAMES, background("forest"), method="tree", time_budget_s=1e-9)
    assert (forced.method, forced.background_rows) == ("tree", MIN_BACKGROUND_ROWS)
    assert_adds_up(explain(forced, "forest", rows()).values, sklearn_output("forest", "probability", rows()))


def test_one_hot_and_missing_indicator_columns_map_back_to_their_input():
    preprocessor = model("logistic")[:-1]
    owners = column_owners(preprocessor, NAMES, background("logistic"))
    assert dict(zip(preprocessor.get_feature_names_out(), (NAMES[o] for o in owners))) == {
        "num__income": "income", "num__age": "age", "num__missingindicator_income": "income",
        "cat__plan_basic": "plan", "cat__plan_plus": "plan", "cat__plan_pro": "plan",
        "cat__autopay_False": "autopay", "cat__autopay_True": "autopay", "cat__channel_web": "channel",
    }


def test_a_sparse_one_hot_beside_passthrough_columns_maps_back():
    columns = ["income", "age", "autopay", "plan"]
    encoder = ColumnTransformer([("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"])],
                                remainder="passthrough", sparse_threshold=1.0)
    frame = data()[0][columns].astype({"autopay": float})
    fitted = encoder.fit(frame)
    owners = column_owners(fitted, columns, frame.head(100))
    assert dict(zip(fitted.get_feature_names_out(), (columns[o] for o in owners))) == {
        "plan__plan_basic": "plan", "plan__plan_plus": "plan", "plan__plan_pro": "plan", "plan__plan_nan": "plan",
        "remainder__income": "income", "remainder__age": "age", "remainder__autopay": "autopay",
    }


def test_a_column_that_never_moves_belongs_to_its_column_transformer_part():
    columns = ["plan", "channel"]
    frame = data()[0][columns].fillna({"plan": "basic"})
    strict = ColumnTransformer([("plan", OneHotEncoder(), [0]), ("channel", OneHotEncoder(), slice(1, 2))])
    owners = column_owners(strict.fit(frame), columns, frame.head(50))
    assert [columns[o] for o in owners] == ["plan", "plan", "plan", "channel"]


def test_a_bare_estimator_maps_each_column_to_itself():
    np.testing.assert_array_equal(column_owners(None, NAMES, background("forest")), np.arange(len(NAMES)))


def test_columns_that_mix_several_inputs_cannot_be_grouped():
    with pytest.raises(Ungroupable, match="mixes the inputs"):
        column_owners(model("pca")[:-1], NAMES, background("pca"))


def test_a_category_never_seen_in_training_is_explained_on_the_raw_pipeline():
    unseen = rows().assign(plan="enterprise")
    explanation = explain(explainer("svc"), "svc", unseen)
    assert_adds_up(explanation.values, sklearn_output("svc", "probability", unseen))


def test_permutation_drivers_do_not_depend_on_the_batch_and_leave_numpy_random_alone():
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    batch = explain(explainer("knn"), "knn", rows().head(3))
    alone = explain(explainer("knn"), "knn", rows().iloc[[2]])
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.testing.assert_allclose(batch.contributions[2], alone.contributions[0], atol=1e-12)


def test_raw_rows_survive_the_permutation_encoding_with_their_dtypes():
    frame = pd.DataFrame({
        "income": [1.5, np.nan, 3.25], "age": [30, 41, 52],
        "plan": pd.Series(["basic", np.nan, "pro"], dtype=object),
        "tier": pd.Series(["a", "b", np.nan], dtype="str"),
        "autopay": [True, False, True],
        "region": pd.Series(["n", "s", np.nan], dtype="category"),
    })
    codec = _Codec.of(frame)
    encoded = codec.encode(frame)
    assert encoded.dtype == float
    np.testing.assert_array_equal(encoded[:, 4], [1, 0, 1])  # booleans code as 0/1
    pd.testing.assert_frame_equal(codec.decode(encoded), frame)


@pytest.mark.parametrize("estimator, method", [(RandomForestClassifier(n_estimators=10, random_state=0), "tree"),
                                               (KNeighborsClassifier(), "permutation")])
def test_a_model_fitted_on_arrays_is_explained_without_warnings_about_column_names(estimator, method, recwarn):
    frame = data()[0][["income", "age"]].fillna(50_000.0).astype(float)
    fitted = make_pipeline(StandardScaler(), estimator).fit(frame.to_numpy(), targets("binary"))
    chosen = build_explainer(fitted, ["income", "age"], frame, time_budget_s=0.05)
    explanation = chosen.explain(frame.head(3), fitted[:-1].transform(frame.head(3).to_numpy()))
    assert chosen.method == method
    assert_adds_up(explanation.values, fitted.predict_proba(frame.head(3).to_numpy()))
    assert [str(w.message) for w in recwarn] == []
