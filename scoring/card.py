"""The optional model card, `NAME.yaml`, beside `NAME.joblib`.

Everything in it is optional; what it leaves out is inferred from the fitted
model and its background sample. Example:

    description: Will this customer cancel in the next 90 days?
    target: churn
    default: true                 # the model `predict:` uses when none is named
    classes: {0: stays, 1: churns}
    positive_class: churns
    top_k: 3
    explainer: auto               # auto | tree | linear | permutation
    background: churn.background.csv
    sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08   # pins churn.joblib
    features:
      income: {description: Yearly income, unit: $, aliases: [salary], min: 0, max: 500000}
      autopay: {kind: boolean}
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from scoring.problems import did_you_mean, listing
from scoring.schema import normalise_key

EXPLAINERS = ("auto", "tree", "linear", "permutation")
KINDS = ("numeric", "integer", "boolean", "categorical")
FEATURE_KEYS = {"description", "unit", "aliases", "min", "max", "kind", "categories"}
CARD_KEYS = {"description", "target", "default", "classes", "positive_class", "top_k",
             "explainer", "background", "features", "sha256"}


class CardError(ValueError):
    """A model card that cannot be used; the message says which part and why."""


@dataclass(frozen=True)
class FeatureCard:
    description: str = ""
    unit: str | None = None
    aliases: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    kind: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelCard:
    description: str = ""
    target: str = ""
    default: bool = False
    classes: dict[str, str] = field(default_factory=dict)
    positive_class: str | None = None
    top_k: int = 3
    explainer: str = "auto"
    background: str | None = None
    features: dict[str, FeatureCard] = field(default_factory=dict)
    sha256: str | None = None     # the pin: hex digest NAME.joblib must have before it is unpickled


def digest(data: bytes) -> str:
    """The pin of a model file's bytes: what `sha256sum NAME.joblib` prints, and what `sha256:` holds."""
    return hashlib.sha256(data).hexdigest()


def load_card(path: Path) -> ModelCard:
    """The card at `path` (an empty card if there is none), parsed once per file version."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return ModelCard()
    return _parsed(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _parsed(path: Path, mtime_ns: int, size: int) -> ModelCard:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise CardError(f"{path.name} is not valid YAML: {error}") from None
    return card_from_dict(data, path.name)


def card_from_dict(data: Any, source: str) -> ModelCard:
    if not isinstance(data, dict):
        raise CardError(f"{source} must be a mapping of keys to values")
    unknown = set(data) - CARD_KEYS
    if unknown:
        raise CardError(f"{source} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
    explainer = str(data.get("explainer", "auto"))
    if explainer not in EXPLAINERS:
        raise CardError(f"{source}: explainer must be one of {', '.join(EXPLAINERS)}")
    top_k = data.get("top_k", 3)
    if not isinstance(top_k, int) or top_k < 1:
        raise CardError(f"{source}: top_k must be a positive whole number")
    classes = data.get("classes") or {}
    if isinstance(classes, list):
        classes = dict(enumerate(classes))
    if not isinstance(classes, dict):
        raise CardError(f"{source}: classes must map model classes to labels")
    features = data.get("features") or {}
    if not isinstance(features, dict):
        raise CardError(f"{source}: features must map feature names to their details")
    return ModelCard(
        description=str(data.get("description", "")).strip(),
        target=str(data.get("target", "")),
        default=bool(data.get("default", False)),
        classes={str(k): str(v) for k, v in classes.items()},
        positive_class=None if data.get("positive_class") is None else str(data["positive_class"]),
        top_k=top_k,
        explainer=explainer,
        background=data.get("background"),
        features={str(name): feature_card(spec, f"{source}: feature {name}")
                  for name, spec in features.items()},
        sha256=_pin(data.get("sha256"), source),
    )


def feature_card(spec: Any, where: str) -> FeatureCard:
    spec = spec or {}
    if not isinstance(spec, dict):
        raise CardError(f"{where} must be a mapping")
    unknown = set(spec) - FEATURE_KEYS
    if unknown:
        raise CardError(f"{where} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
    if spec.get("kind") is not None and spec["kind"] not in KINDS:
        raise CardError(f"{where}: kind must be one of {', '.join(KINDS)}")
    aliases = spec.get("aliases") or ()
    if isinstance(aliases, str):
        aliases = (aliases,)
    return FeatureCard(
        description=str(spec.get("description", "")),
        unit=None if spec.get("unit") is None else str(spec["unit"]),
        aliases=tuple(str(a) for a in aliases),
        low=_number(spec.get("min"), where),
        high=_number(spec.get("max"), where),
        kind=None if spec.get("kind") is None else str(spec["kind"]),
        categories=tuple(str(c) for c in spec.get("categories") or ()),
    )


def check_fields(card: ModelCard, fields: Sequence[str], source: str) -> None:
    """Refuse a card that describes a field the model does not have, or gives an alias that already means another
    field: either would be silently ignored, and the operator would believe the card does what it says."""
    for name in card.features:
        if name not in fields:
            guess = did_you_mean(name, fields)
            hint = f"did you mean {guess!r}? " if guess else ""
            raise CardError(f"{source}: the model has no field {name!r}; {hint}its fields are {listing(fields)}")
    meanings = {normalise_key(f): f for f in fields}
    for name, spec in card.features.items():
        for alias in spec.aliases:
            meant = meanings.setdefault(normalise_key(alias), name)
            if meant != name:
                raise CardError(f"{source}: the alias {alias!r} of {name} already means {meant}")


def _pin(value: Any, source: str) -> str | None:
    if value is None:
        return None
    pin = str(value).strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", pin):
        raise CardError(f"{source}: sha256 must be the 64 hex digits `sha256sum` prints for the model file")
    return pin


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CardError(f"{where}: min and max must be numbers")
    return float(value)
