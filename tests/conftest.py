"""Shared fixtures: the demo models are built once per test run, in a private cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.demo import demo_models_dir
from scoring.registry import Registry


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_models_dir(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def registry(demo_dir: Path) -> Registry:
    registry = Registry(demo_dir)
    registry.refresh()
    return registry


@pytest.fixture(scope="session")
def churn(registry: Registry):
    return registry.get("churn")


@pytest.fixture(scope="session")
def iris(registry: Registry):
    return registry.get("iris")


@pytest.fixture(scope="session")
def diabetes(registry: Registry):
    return registry.get("diabetes")
