import logging

import numpy as np
import pandas as pd
import pytest

from scoring.problems import Imputed, ModelFailed, NoDrivers, OutOfRange, UnknownCategory, WrongType
from scoring.score import score


def test_binary_prediction_has_label_probabilities_and_top_three_drivers(churn):
    [result] = score(churn, [{"age": 45, "income": 60000, "plan": "Premium", "contract": "month-to-month",
                              "support_calls": 4, "tenure": 3, "autopay": "no", "region": "south",
                              "fee": "$80"}])
    assert result.ok and result.warnings == ()
    assert result.prediction in ("stays", "churns")
    assert set(result.probabilities) == {"stays", "churns"}
    assert sum(result.probabilities.values()) == pytest.approx(1)
    assert result.probabilities[result.prediction] == max(result.probabilities.values())
    assert len(result.drivers) == 3
    magnitudes = [abs(d.contribution) for d in result.drivers]
    assert magnitudes == sorted(magnitudes, reverse=True)
    given = {"contract": "month-to-month", "support_calls": 4, "tenure_months": 3, "monthly_fee": "$80",
             "autopay": "no", "plan": "Premium", "age": 45, "income": 60000, "region": "south"}
    for driver in result.drivers:
        assert driver.value == given[driver.feature]  # the value as the user gave it


def test_binary_drivers_explain_the_positive_class_whichever_class_a_row_predicts(churn):
    rows = [{"age": 30, "income": 30000, "contract": "month-to-month", "support_calls": 6},
            {"age": 60, "income": 90000, "contract": "two year", "support_calls": 0, "tenure": 80}]
    results = score(churn, rows, top_k=20)
    assert [r.prediction for r in results] == ["churns", "stays"]
    for result in results:
        assert result.scale == "probability" and result.drivers_for == "churns"
        total = result.base_value + sum(d.contribution for d in result.drivers)
        assert total == pytest.approx(result.probabilities["churns"], abs=1e-6)
    # so a field's contribution keeps its meaning from row to row: a month-to-month contract raises churn,
    # a two-year one lowers it, though the first row predicts churns and the second stays
    contract = [next(d.contribution for d in r.drivers if d.feature == "contract") for r in results]
    assert contract[0] > 0 > contract[1]


def test_a_cards_positive_class_is_the_one_a_binary_model_explains(churn):
    import dataclasses
    stays_first = dataclasses.replace(churn, card=dataclasses.replace(churn.card, positive_class="stays"))
    [result] = score(stays_first, [{"age": 30, "income": 30000, "support_calls": 6}], top_k=20)
    assert result.prediction == "churns" and result.drivers_for == "stays"
    total = result.base_value + sum(d.contribution for d in result.drivers)
    assert total == pytest.approx(result.probabilities["stays"], abs=1e-6)


def test_missing_fields_are_imputed_with_a_warning_each(churn):
    [result] = score(churn, [{"age": 45, "income": 60000}])
    assert result.ok
    [imputed] = [w for w in result.warnings if isinstance(w, Imputed)]
    assert set(imputed.features) == set(churn.schema.names) - {"age", "income"}


def test_one_bad_row_does_not_spoil_the_others(churn):
    rows = [{"age": 45, "income": 60000}, {"age": 45, "income": "sixty"},
            {"age": 30, "plan": "Premum"}, {"age": 200}]
    results = score(churn, rows)
    assert [r.ok for r in results] == [True, False, False, True]
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert results[1].reason == "income expects a number, got 'sixty'."
    assert isinstance(results[2].errors[0], UnknownCategory)
    assert any(isinstance(w, OutOfRange) for w in results[3].warnings)


def test_multiclass_explains_the_predicted_class(iris):
    [result] = score(iris, [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}],
                     top_k=4)
    assert result.prediction == result.drivers_for == "setosa"
    assert list(result.probabilities) == ["setosa", "versicolor", "virginica"]
    assert result.scale == "log-odds"
    assert len(result.drivers) == 4
    [other] = score(iris, [{"sepal_length": 6, "sepal_width": 3, "petal_length": 4.5, "petal_width": 1.5}])
    assert other.prediction == other.drivers_for == "versicolor"


def test_regression_value_and_drivers_in_target_units(diabetes):
    row = dict(zip(diabetes.schema.names, diabetes.background.iloc[0]))
    [result] = score(diabetes, [row], top_k=10)
    assert isinstance(result.prediction, float) and result.probabilities == {}
    assert result.scale == "target" and result.drivers_for == ""
    expected = diabetes.estimator.predict(diabetes.background.iloc[[0]])[0]
    assert result.prediction == pytest.approx(expected)
    assert result.base_value + sum(d.contribution for d in result.drivers) == pytest.approx(expected, rel=1e-6)


def test_wrong_type_row_reports_reason_and_no_prediction(iris):
    [result] = score(iris, [{"sepal_length": "long", "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}])
    assert not result.ok and result.prediction is None
    assert isinstance(result.errors[0], WrongType)


class Choosy:
    """Wraps a model and fails on one particular value, as real models sometimes do."""

    def __init__(self, model):
        self.model = model

    def transform(self, frame):
        if (frame["age"] == 13).any():
            raise ValueError("secret internal detail /srv/models/x.joblib")
        return self.model.preprocessor.transform(frame)


def test_a_row_the_model_raises_on_fails_alone_and_is_logged(churn, caplog):
    import dataclasses
    choosy = dataclasses.replace(churn, preprocessor=Choosy(churn))
    with caplog.at_level(logging.ERROR, logger="scoring.score"):
        results = score(choosy, [{"age": 45}, {"age": 13}, {"age": 50}])
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].errors == (ModelFailed(),)
    assert "/srv" not in results[1].reason
    assert "secret internal detail" in caplog.text  # the operator sees the real cause


class Broken:
    method, scale = "tree", "probability"

    def explain(self, raw, transformed):
        raise RuntimeError("shap exploded")


def test_prediction_survives_an_explainer_failure(churn):
    import dataclasses
    no_shap = dataclasses.replace(churn, explainer=Broken())
    [result] = score(no_shap, [{"age": 45}])
    assert result.ok and result.drivers == ()
    assert NoDrivers() in result.warnings
    [healthy] = score(churn, [{"age": 45}])
    assert result.probabilities == healthy.probabilities


def test_batch_and_single_scoring_agree(churn):
    rows = [{"age": int(a), "income": float(i)} for a, i in zip(np.linspace(20, 70, 6), np.linspace(2e4, 9e4, 6))]
    together = score(churn, rows)
    alone = [score(churn, [row])[0] for row in rows]
    for a, b in zip(together, alone):
        assert a.probabilities == pytest.approx(b.probabilities)
        assert [d.feature for d in a.drivers] == [d.feature for d in b.drivers]


def test_drivers_can_explain_a_class_other_than_the_predicted_one(iris):
    row = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
    [own] = score(iris, [row], top_k=4)
    [other] = score(iris, [row], top_k=4, drivers_for="virginica")
    assert own.prediction == other.prediction == "setosa"
    assert own.drivers != other.drivers
    logits = iris.estimator.decision_function(pd.DataFrame([row]))
    assert other.base_value + sum(d.contribution for d in other.drivers) == pytest.approx(logits[0][2], abs=1e-6)


def test_a_model_fitted_on_arrays_loads_scores_and_explains_without_warnings_about_column_names(tmp_path,
                                                                                               recwarn):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from scoring.demo import write_model
    from scoring.model import load_model

    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 3))
    labels = (features[:, 0] + features[:, 1] > 0).astype(int)
    frame = pd.DataFrame(features, columns=["a", "b", "c"])
    fitted = {"forest": RandomForestClassifier(n_estimators=10, random_state=0).fit(features, labels),
              "neighbours": make_pipeline(StandardScaler(), KNeighborsClassifier()).fit(features, labels)}
    for name, estimator in fitted.items():
        write_model(tmp_path, name, estimator, frame, {})
    recwarn.clear()
    models = {name: load_model(tmp_path, name) for name in fitted}
    assert {m.explainer.method for m in models.values()} == {"tree", "permutation"}
    for name, model in models.items():
        [result] = score(model, [{"a": 1.0, "b": 2.0, "c": 3.0}])
        assert result.ok and result.drivers, name
        assert model.importance[1], name           # `explain NAME`: global drivers over the background
        assert result.probabilities["1"] == pytest.approx(fitted[name].predict_proba([[1.0, 2.0, 3.0]])[0][1])
    assert [str(w.message) for w in recwarn] == []
