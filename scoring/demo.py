"""The built-in demo models, built from code on first use and cached.

No pickles live in git: pickles are tied to library versions and opaque to
review. Each demo is trained deterministically here, and the cache directory's
name carries a stamp of this file and the scikit-learn version, so a change
to either builds fresh models. Each card pins its model file (`sha256:`), so
the demo also runs under `predbot --require-pins`.

- `churn` (the default): will a customer cancel? A binary classifier on the
  synthetic data set below, with numeric, whole-number, categorical and
  boolean features, answering `predict: age=45, income=60000`.
- `iris`: multiclass, scikit-learn's bundled iris data (`predict iris: 5.1, 3.5, 1.4, 0.2`).
- `diabetes`: regression, scikit-learn's bundled diabetes data in the units it was
  measured in (`predict diabetes: age=50, bmi=30` is 50 years and 30 kg/m²).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from scoring.card import digest

SEED = 20261123
BACKGROUND_ROWS = 200
PLANS = {"Basic": 20.0, "Standard": 45.0, "Premium": 70.0, "Premium Plus": 95.0}
REGIONS = ("north", "south", "east", "west")
CONTRACTS = ("month-to-month", "one year", "two year")


def churn_data(rows: int = 4000, seed: int = SEED) -> tuple[pd.DataFrame, pd.Series]:
    """A synthetic customer base with a known story, so the drivers make sense.

    Churn is likelier for month-to-month contracts, many support calls, a high
    fee for the income, short tenure and no autopay; older customers stay a
    little more. About 5% of each optional field is missing, to exercise the
    imputers.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 81, rows)
    income = np.round(np.exp(rng.normal(10.9, 0.45, rows)) * (0.7 + age / 100), -2)
    plan = rng.choice(list(PLANS), rows, p=[0.35, 0.35, 0.2, 0.1])
    fee = np.round(np.array([PLANS[p] for p in plan]) + rng.normal(0, 6, rows), 2)
    tenure = rng.integers(0, 121, rows)
    calls = rng.poisson(1.5, rows)
    autopay = rng.random(rows) < 0.55
    region = rng.choice(REGIONS, rows)
    contract = rng.choice(CONTRACTS, rows, p=[0.5, 0.3, 0.2])
    logit = (-1.1 + 1.3 * (contract == "month-to-month") - 0.8 * (contract == "two year")
             + 0.45 * calls - 0.018 * tenure - 0.7 * autopay - 0.012 * (age - 45)
             + 25 * fee * 12 / income + 0.2 * (region == "south"))
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame({"age": age, "income": income, "plan": plan, "monthly_fee": fee,
                          "tenure_months": tenure, "support_calls": calls,
                          "autopay": autopay.astype(float), "region": region, "contract": contract})
    for column in ("income", "plan", "monthly_fee", "tenure_months", "support_calls",
                   "autopay", "region", "contract"):
        frame.loc[rng.random(rows) < 0.05, column] = np.nan
    return frame, pd.Series(np.where(churned, "yes", "no"), name="churn")


def churn_pipeline() -> Pipeline:
    numeric = ["age", "income", "monthly_fee", "tenure_months", "support_calls", "autopay"]
    categorical = ["plan", "region", "contract"]
    prepare = ColumnTransformer([
        ("numeric", SimpleImputer(strategy="median"), numeric),
        ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                      OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
         categorical),
    ])
    return Pipeline([("prepare", prepare),
                     ("model", GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0))])


CHURN_CARD = {
    "description": "Will this customer cancel in the next 90 days? (synthetic demo data)",
    "target": "churn",
    "default": True,
    "classes": {"no": "stays", "yes": "churns"},
    "positive_class": "churns",
    "features": {
        "age": {"description": "Customer age", "unit": "years"},
        "income": {"description": "Yearly household income", "unit": "$", "aliases": ["salary"],
                   "kind": "numeric"},
        "plan": {"description": "Subscription plan", "aliases": ["plan type", "tier"]},
        "monthly_fee": {"description": "What the customer pays each month", "unit": "$",
                        "aliases": ["fee", "price"]},
        "tenure_months": {"description": "Months as a customer", "unit": "months",
                          "aliases": ["tenure"], "kind": "integer"},
        "support_calls": {"description": "Support calls in the last 90 days", "aliases": ["calls"],
                          "kind": "integer"},
        "autopay": {"description": "Pays automatically", "kind": "boolean"},
        "region": {"description": "Sales region"},
        "contract": {"description": "Contract length"},
    },
}


def build_churn() -> tuple[Pipeline, pd.DataFrame, dict]:
    frame, target = churn_data()
    return churn_pipeline().fit(frame, target), frame, CHURN_CARD


def build_iris() -> tuple[Pipeline, pd.DataFrame, dict]:
    data = load_iris(as_frame=True)
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    frame = data.data.set_axis(names, axis=1)
    target = pd.Series(np.asarray(data.target_names)[data.target], name="species")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(frame, target)
    card = {"description": "Iris species from flower measurements (Fisher's iris data)",
            "target": "species",
            "features": {n: {"description": n.replace("_", " ").capitalize(), "unit": "cm"}
                         for n in names}}
    return model, frame, card


def build_diabetes() -> tuple[Pipeline, pd.DataFrame, dict]:
    """Trained on the data as measured (`scaled=False`), so people type years, kg/m², mm Hg and mg/dL."""
    data = load_diabetes(as_frame=True, scaled=False)
    frame = data.data
    model = Pipeline([("model", RandomForestRegressor(n_estimators=50, max_depth=6, random_state=0))])
    model.fit(frame, data.target)
    fields = {  # name: description, unit, aliases (the data set's own short names)
        "age": ("Age", "years", []),
        "sex": ("Sex, coded 1 or 2 (the data set does not say which is which)", None, []),
        "bmi": ("Body mass index", "kg/m²", []),
        "bp": ("Mean arterial blood pressure", "mm Hg", ["blood pressure"]),
        "s1": ("Total serum cholesterol", "mg/dL", ["tc", "cholesterol"]),
        "s2": ("Low-density lipoproteins", "mg/dL", ["ldl"]),
        "s3": ("High-density lipoproteins", "mg/dL", ["hdl"]),
        "s4": ("Total cholesterol / HDL", None, ["tch"]),
        "s5": ("Log of serum triglycerides", None, ["ltg"]),
        "s6": ("Blood sugar level", "mg/dL", ["glu", "glucose"]),
    }
    card = {"description": "Diabetes progression one year after baseline (bundled diabetes data)",
            "target": "progression",
            "features": {n: {"description": d, **({"unit": u} if u else {}), **({"aliases": a} if a else {}),
                             "kind": "integer" if n == "sex" else "numeric"}
                        for n, (d, u, a) in fields.items()}}
    return model, frame, card


DEMOS: dict[str, Callable[[], tuple[Pipeline, pd.DataFrame, dict]]] = {
    "churn": build_churn, "iris": build_iris, "diabetes": build_diabetes,
}


def write_model(directory: Path, name: str, model: object, frame: pd.DataFrame, card: dict) -> None:
    """NAME.joblib, NAME.yaml and NAME.background.csv: the layout any models directory uses.

    The card pins the joblib file it was written with (`sha256:`), so what we
    build ourselves also loads under `--require-pins`.
    """
    path = directory / f"{name}.joblib"
    joblib.dump(model, path)
    pinned = {**card, "sha256": digest(path.read_bytes())}
    (directory / f"{name}.yaml").write_text(yaml.safe_dump(pinned, sort_keys=False), encoding="utf-8")
    sample = frame.sample(n=min(BACKGROUND_ROWS, len(frame)), random_state=0)
    sample.to_csv(directory / f"{name}.background.csv", index=False)


def stamp() -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes() + sklearn.__version__.encode())
    return digest.hexdigest()[:12]


def cache_root() -> Path:
    """Where the demo models are built when the caller names no directory. predbot names one: its
    configuration (`bot.config`) reads --cache, PREDBOT_CACHE and XDG_CACHE_HOME."""
    return Path.home() / ".cache" / "predbot"


def demo_models_dir(root: Path | None = None) -> Path:
    """The directory of built demo models, building it first if needed.

    Built in a temporary directory and renamed into place, so a concurrent
    process sees either no directory or a complete one.
    """
    target = (root or cache_root()) / f"demo-models-{stamp()}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        for name, build in DEMOS.items():
            write_model(building, name, *build())
        building.rename(target)
    except OSError:
        if not target.exists():
            raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target
