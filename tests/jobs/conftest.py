"""Batch job fixtures: a clock the test moves, input and output directories, churn files, and Jobs over a store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from batch_files import Clock, churn_frame

from bot.jobs import Jobs
from bot.store import Store
from scoring.registry import Registry


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class Folders:
    input: Path
    output: Path


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    found = Folders(tmp_path / "in", tmp_path / "out")
    found.input.mkdir()
    return found


@pytest.fixture
def churn_csv(folders: Folders) -> Path:
    path = folders.input / "customers.csv"
    churn_frame().to_csv(path, index=False)
    return path


@pytest.fixture
def churn_parquet(folders: Folders, churn_csv: Path) -> Path:
    path = folders.input / "customers.parquet"
    pd.read_csv(churn_csv).to_parquet(path, index=False)
    return path


MakeJobs = Callable[..., Jobs]


@pytest.fixture
def make_jobs(registry: Registry, folders: Folders, clock: Clock) -> MakeJobs:
    """`make_jobs(store, **more)`: Jobs over `store`, the test's folders and clock; one per "replica"."""
    def make(store: Store, **more: object) -> Jobs:
        return Jobs(store, registry, folders.input, folders.output, **{"clock": clock, **more})

    return make


@pytest.fixture
def jobs(make_jobs: MakeJobs, store: Store) -> Jobs:
    return make_jobs(store)
