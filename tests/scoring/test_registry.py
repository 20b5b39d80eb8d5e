import hashlib
import logging
import os
import threading

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from bot.cli import main
from bot.core import Bot
from bot.render.text import render
from scoring.card import CardError, card_from_dict
from scoring.demo import write_model
from scoring.model import Model
from scoring.registry import ModelUnavailable, NoDefaultModel, Registry, UnknownModel
from scoring.problems import OutOfRange
from scoring.schema import Kind
from scoring.score import score


def loaded(directory, **options) -> Registry:
    """A registry after its startup refresh, the way every entry point builds one."""
    registry = Registry(directory, **options)
    registry.refresh()
    return registry


def leave_marker(path: str) -> dict:
    with open(path, "a") as marker:
        marker.write("unpickled\n")
    return {"not": "a model"}


class Trap:
    """A pickle whose unpickling writes a marker file: visible proof of when a file is unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return leave_marker, (self.marker,)


def sha256_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def set_card(path, **changes):
    """Rewrite a card's keys; a value of None removes the key."""
    card = yaml.safe_load(path.read_text()) or {}
    card.update(changes)
    path.write_text(yaml.safe_dump({k: v for k, v in card.items() if v is not None}))


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
    model = loaded(models).get("toy")
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
    model = loaded(tmp_path).get("toy")
    age = model.schema.feature("years")
    assert (age.name, age.unit, age.low, age.high) == ("age", "years", 0, 120)
    assert model.labels == ("over 45", "45 or under")
    assert model.target == "age group"


def test_version_is_a_short_content_hash_that_follows_the_files(models):
    registry = loaded(models)
    first = registry.get("toy").version
    assert len(first) == 10 and int(first, 16) >= 0
    assert loaded(models).get("toy").version == first  # same bytes, same version
    retrain(models)
    registry.refresh()
    reloaded = registry.get("toy")
    assert reloaded.version != first
    assert reloaded.card.description == "Retrained"


def retrain(directory):
    frame, target = toy_data(seed=1)
    write_model(directory, "toy", toy_pipeline(trees=12).fit(frame, target), frame, {"description": "Retrained"})
    bump_mtime(directory / "toy.joblib")


def bump_mtime(path):
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_corrupt_new_file_leaves_the_old_model_serving(models, caplog):
    registry = loaded(models)
    old = registry.get("toy")
    (models / "toy.joblib").write_bytes(b"this is not a pickle")
    set_card(models / "toy.yaml", sha256=sha256_of(models / "toy.joblib"))  # pinned, so unpickling is tried
    with caplog.at_level(logging.ERROR, logger="scoring.registry"):
        registry.refresh()
    assert registry.get("toy") is old
    assert "toy not loaded" in caplog.text and "previous version keeps serving" in caplog.text


def test_a_broken_card_also_keeps_the_old_model(models, caplog):
    registry = loaded(models)
    old = registry.get("toy")
    (models / "toy.yaml").write_text("explainer: magic\n")
    with caplog.at_level(logging.ERROR, logger="scoring.registry"):
        registry.refresh()
    assert registry.get("toy") is old
    assert "explainer must be one of auto, tree, linear, permutation" in caplog.text


def test_a_model_that_never_loaded_is_unavailable_without_leaking_paths(tmp_path):
    (tmp_path / "broken.joblib").write_bytes(b"\x00garbage")
    registry = loaded(tmp_path)
    problem = registry.get("broken")
    assert isinstance(problem, ModelUnavailable)
    assert str(tmp_path) not in problem.message and "joblib" not in problem.message
    assert registry.failures()["broken"].startswith("broken.joblib cannot be unpickled: ")  # for the operator


def test_unknown_model_suggests_a_name(registry):
    problem = registry.get("chrun")
    assert isinstance(problem, UnknownModel)
    assert problem.message == "There is no model called 'chrun'. Did you mean 'churn'?"


def test_model_names_match_case_insensitively(registry):
    assert registry.get("IRIS").name == "iris"


def test_default_model_comes_from_the_card_or_is_the_only_one(registry, models, tmp_path):
    assert registry.default_name == "churn"  # its card says default: true
    assert loaded(models).get(None).name == "toy"  # the only model
    frame, target = toy_data()
    for name in ("a", "b"):
        write_model(tmp_path, name, toy_pipeline().fit(frame, target), frame, {})
    assert isinstance(loaded(tmp_path).get(None), NoDefaultModel)
    assert loaded(tmp_path, default="b").get(None).name == "b"


def test_a_model_without_background_still_predicts(tmp_path):
    frame = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) * 2})
    model = LinearRegression().fit(frame, frame["x"] * 3 + frame["y"])
    write_model(tmp_path, "lin", model, frame, {})
    (tmp_path / "lin.background.csv").unlink()
    model = loaded(tmp_path).get("lin")
    assert model.explainer is None and model.schema.names == ("x", "y")


@pytest.mark.parametrize("card, message", [
    ({"top_k": 0}, "top_k must be a positive whole number"),
    ({"colour": "red"}, "unknown keys: colour"),
    ({"features": {"age": {"kind": "date"}}}, "kind must be one of"),
    ({"features": {"age": {"min": "low"}}}, "min and max must be numbers"),
    ({"sha256": "abc123"}, "sha256 must be the 64 hex digits"),
])
def test_card_errors_say_what_is_wrong(card, message):
    with pytest.raises(CardError, match=message):
        card_from_dict(card, "toy.yaml")


@pytest.fixture
def registry_log():
    """Lines the registry logs, with an event per awaited text: conditions to wait on, not sleeps."""
    watched = logging.getLogger("scoring.registry")
    handler = Announced()
    level = watched.level
    watched.addHandler(handler)
    watched.setLevel(logging.INFO)
    yield handler
    watched.removeHandler(handler)
    watched.setLevel(level)


class Announced(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.awaited: dict[str, threading.Event] = {}

    def emit(self, record):
        line = record.getMessage()
        self.lines.append(line)
        for text, seen in self.awaited.items():
            if text in line:
                seen.set()

    def expect(self, text) -> threading.Event:
        return self.awaited.setdefault(text, threading.Event())


def test_a_model_that_matches_its_pin_loads_even_when_pins_are_required(models):
    card = yaml.safe_load((models / "toy.yaml").read_text())
    assert card["sha256"] == sha256_of(models / "toy.joblib")  # write_model pinned what it wrote
    assert isinstance(loaded(models, require_pins=True).get("toy"), Model)


def test_the_demo_models_pin_themselves_so_they_load_when_pins_are_required(demo_dir):
    registry = loaded(demo_dir, require_pins=True)
    assert [m.name for m in registry.models()] == ["churn", "diabetes", "iris"]
    for name in registry.names():
        assert registry.get(name).card.sha256 == sha256_of(demo_dir / f"{name}.joblib")


def test_a_file_that_does_not_match_its_pin_is_never_unpickled_and_the_old_version_serves(
        models, tmp_path_factory, caplog):
    marker = tmp_path_factory.mktemp("marker") / "unpickled"
    registry = loaded(models)
    old = registry.get("toy")
    pinned = old.card.sha256
    joblib.dump(Trap(marker), models / "toy.joblib")
    swapped = sha256_of(models / "toy.joblib")
    with caplog.at_level(logging.ERROR, logger="scoring.registry"):
        registry.refresh()
    assert registry.get("toy") is old and registry.unavailable() == ()
    assert not marker.exists()
    line = next(r.getMessage() for r in caplog.records if "toy not loaded" in r.getMessage())
    assert str(models / "toy.joblib") in line and pinned in line and swapped in line
    assert "previous version keeps serving" in line
    restarted = loaded(models)  # a fresh start has no old version to keep
    assert isinstance(restarted.get("toy"), ModelUnavailable) and restarted.unavailable() == ("toy",)
    assert not marker.exists()


def test_require_pins_refuses_an_unpinned_file_and_logs_the_pin_to_add(models, tmp_path_factory, caplog):
    marker = tmp_path_factory.mktemp("marker") / "unpickled"
    joblib.dump(Trap(marker), models / "stranger.joblib")
    set_card(models / "toy.yaml", sha256=None)
    with caplog.at_level(logging.ERROR, logger="scoring.registry"):
        registry = loaded(models, require_pins=True)
    assert isinstance(registry.get("toy"), ModelUnavailable)
    assert isinstance(registry.get("stranger"), ModelUnavailable)
    assert not marker.exists()
    line = next(r.getMessage() for r in caplog.records if "toy not loaded" in r.getMessage())
    pin = f"sha256: {sha256_of(models / 'toy.joblib')}"
    assert pin in line and "toy.yaml" in line and "--require-pins" in line
    # the operator checks the file, then adds the line the log gave
    with (models / "toy.yaml").open("a") as card:
        card.write(pin + "\n")
    registry.refresh()
    assert isinstance(registry.get("toy"), Model)


def test_a_dropped_file_is_unpickled_by_refresh_and_never_by_a_request(models, tmp_path_factory):
    marker = tmp_path_factory.mktemp("marker") / "unpickled"
    registry = loaded(models)
    bot = Bot(registry)
    joblib.dump(Trap(marker), models / "trap.joblib")
    assert isinstance(registry.get("trap"), UnknownModel)
    assert [m.name for m in registry.models()] == ["toy"]
    assert registry.names() == ("toy",) and registry.default_name == "toy"
    for text in ("models", "predict trap: x=1", "schema trap", "explain trap", "help", "help trap"):
        bot.handle(text)
    assert [m.name for m in bot.handle("models").body.models] == ["toy"]
    assert not marker.exists()
    registry.refresh()
    assert marker.read_text() == "unpickled\n"  # the refresh, once
    unavailable = registry.get("trap")
    assert isinstance(unavailable, ModelUnavailable)  # it holds a dict, not a model
    assert registry.unavailable() == ("trap",) and registry.names() == ("toy", "trap")
    assert bot.handle("predict trap: x=1").body.message == unavailable.message
    assert registry.default_name is None  # two models now, and no card says which is the default


def test_refresh_drops_a_removed_model(models):
    registry = loaded(models)
    (models / "toy.joblib").unlink()
    registry.refresh()
    assert registry.names() == () and isinstance(registry.get("toy"), UnknownModel)


def test_the_watcher_reloads_a_changed_file_without_any_request(models, registry_log):
    registry = loaded(models)
    first = registry.get("toy")
    reloaded = registry_log.expect("model toy loaded")
    watcher = registry.watch(interval=0.05)
    try:
        retrain(models)
        assert reloaded.wait(timeout=60), registry_log.lines
    finally:
        watcher.stop()
    now = registry.get("toy")
    assert now.version != first.version and now.card.description == "Retrained"


def test_predbot_require_pins_serves_only_pinned_models_and_names_the_others(models, tmp_path_factory, capsys, caplog):
    marker = tmp_path_factory.mktemp("marker") / "unpickled"
    joblib.dump(Trap(marker), models / "stranger.joblib")
    with caplog.at_level(logging.ERROR, logger="scoring.registry"):
        assert main(["--models", str(models), "--require-pins", "models"]) == 0
    serving, _, not_loaded = capsys.readouterr().out.partition("Not loaded:")
    assert "toy" in serving and "stranger" not in serving
    # the terminal is the operator's: each file that did not load comes with its reason
    assert not_loaded.strip() == (f"stranger: {models / 'stranger.joblib'} is not pinned and pins are required "
                                  f"(--require-pins); after checking the file, add `sha256: "
                                  f"{sha256_of(models / 'stranger.joblib')}` to stranger.yaml")
    assert not marker.exists()
    assert f"sha256: {sha256_of(models / 'stranger.joblib')}" in caplog.text
    assert main(["--models", str(models), "models"]) == 0  # without the flag, the file is unpickled
    assert marker.exists()


@pytest.mark.parametrize("features, reason", [
    ({"incme": {"unit": "$"}},
     "toy.yaml: the model has no field 'incme'; did you mean 'income'? its fields are age, income, colour, member"),
    ({"height": {}}, "toy.yaml: the model has no field 'height'; its fields are age, income, colour, member"),
    ({"age": {"aliases": ["Income"]}}, "toy.yaml: the alias 'Income' of age already means income"),
    ({"age": {"aliases": ["years"]}, "income": {"aliases": ["years"]}},
     "toy.yaml: the alias 'years' of income already means age"),
])
def test_a_card_about_a_field_the_model_lacks_or_with_an_alias_taken_is_not_loaded(tmp_path, features, reason):
    frame, target = toy_data()
    write_model(tmp_path, "toy", toy_pipeline().fit(frame, target), frame, {"features": features})
    registry = loaded(tmp_path)
    assert isinstance(registry.get("toy"), ModelUnavailable)
    assert registry.failures() == {"toy": reason}


def test_a_background_sample_missing_fields_names_them(tmp_path):
    frame, target = toy_data()
    write_model(tmp_path, "toy", toy_pipeline().fit(frame, target), frame.drop(columns=["income", "colour"]), {})
    registry = loaded(tmp_path)
    assert isinstance(registry.get("toy"), ModelUnavailable)
    assert registry.failures() == {"toy": "toy.background.csv lacks the model's columns income, colour; "
                                          "save training rows with every field the model takes"}


def test_reasons_are_kept_for_the_operator_and_chat_hears_only_names(models, tmp_path):
    joblib.dump({"not": "a model"}, models / "broken.joblib")
    registry = loaded(models)
    old = registry.get("toy")
    (models / "toy.yaml").write_text("explainer: magic\n")
    registry.refresh()
    assert registry.get("toy") is old and registry.unavailable() == ("broken",)
    failures = registry.failures()
    assert list(failures) == ["broken", "toy"]
    assert failures["broken"] == "broken.joblib holds a dict, not a fitted model"
    assert failures["toy"] == ("toy.yaml: explainer must be one of auto, tree, linear, permutation; "
                               f"the previous version keeps serving (v{old.version})")
    bot = Bot(registry)
    chat = render(bot.handle("models"))
    assert chat.endswith("\nNot loaded: broken (the bot's owner can see why in the log).")
    assert "explainer must" not in chat and "holds a dict" not in chat
    operator = render(bot.models(reasons=True))
    assert operator.endswith(f"\nNot loaded:\n  broken: {failures['broken']}\n  toy: {failures['toy']}")


def test_the_diabetes_demo_reads_values_in_the_units_they_were_measured_in(diabetes):
    age, bmi, bp = (diabetes.schema.feature(name) for name in ("age", "bmi", "blood pressure"))
    assert (age.unit, bmi.unit, bp.name, bp.unit) == ("years", "kg/m²", "bp", "mm Hg")
    assert 18 <= age.low < age.high <= 80 and 15 <= bmi.low < bmi.high <= 45
    [result] = score(diabetes, [{"age": 50, "bmi": 30}])
    assert result.ok and not [w for w in result.warnings if isinstance(w, OutOfRange)]


@pytest.fixture
def toy_and_trap(models, tmp_path_factory):
    """The toy model, and a file `trap` whose unpickling leaves a marker (and gives no model); trap's card makes it
    the default."""
    marker = tmp_path_factory.mktemp("marker") / "unpickled"
    joblib.dump(Trap(marker), models / "trap.joblib")
    (models / "trap.yaml").write_text("default: true\n")
    return models, marker


def test_a_lazy_registry_finds_names_and_the_default_from_the_cards_without_unpickling(toy_and_trap):
    models, marker = toy_and_trap
    registry = loaded(models, lazy=True)
    assert registry.names() == ("toy", "trap") and registry.default_name == "trap"
    assert not marker.exists()


def test_a_lazy_registry_unpickles_a_model_file_when_it_is_named_and_only_once(toy_and_trap):
    models, marker = toy_and_trap
    registry = loaded(models, lazy=True)
    toy = registry.get("toy")
    assert isinstance(toy, Model) and registry.get("TOY") is toy
    assert not marker.exists()                      # the other file is still unopened
    assert isinstance(registry.get(), ModelUnavailable)     # the default, named by omission
    assert marker.read_text() == "unpickled\n"
    registry.get("trap")
    assert registry.models() == [toy] and registry.unavailable() == ("trap",)
    assert marker.read_text() == "unpickled\n"


def test_a_lazy_registry_fails_a_broken_file_when_it_is_named_with_the_message_a_refresh_gives(models, caplog):
    joblib.dump({"not": "a model"}, models / "broken.joblib")
    eager = loaded(models)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="scoring.registry"):
        lazy = loaded(models, lazy=True)
        assert caplog.text == ""            # nothing tried yet
        problem = lazy.get("broken")
    assert "model broken not loaded: broken.joblib holds a dict, not a fitted model" in caplog.text
    assert isinstance(problem, ModelUnavailable) and problem == eager.get("broken")
    assert lazy.failures() == eager.failures() == {"broken": "broken.joblib holds a dict, not a fitted model"}


def test_models_and_unavailable_load_every_model_of_a_lazy_registry(toy_and_trap):
    models, marker = toy_and_trap
    registry = loaded(models, lazy=True)
    assert [m.name for m in registry.models()] == ["toy"]
    assert registry.unavailable() == ("trap",) and marker.exists()


def test_a_lazy_registry_builds_no_explainer_until_drivers_are_asked_for(models):
    eager, lazy = loaded(models).get("toy"), loaded(models, lazy=True).get("toy")
    assert eager.explainer_built and not lazy.explainer_built
    [result] = score(lazy, [{"age": 50, "income": 40_000, "colour": "red", "member": True}])
    assert result.drivers and lazy.explainer_built
    assert lazy.explainer.method == eager.explainer.method


def test_predbot_ask_unpickles_only_the_model_it_is_asked_about(toy_and_trap, capsys):
    models, marker = toy_and_trap
    assert main(["--models", str(models), "ask", "predict toy: age=50, income=40000, colour=red, member=yes"]) == 0
    assert "[model toy v" in capsys.readouterr().out
    assert not marker.exists()
    assert main(["--models", str(models), "models"]) == 0     # the operator's listing loads every file
    assert marker.exists()
