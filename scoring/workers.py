"""The model a worker process scores with: loaded once per process, and only the version its parent checked.

A loaded Model does not pickle (its fast path holds closures), and loading
it is cheap next to scoring a file (0.4 s for the demo churn), so workers are
told where the model is rather than sent it. Each loads it on its first chunk
(or as it starts) and keeps it for the rest; a worker whose files no longer
give the version its parent loaded refuses to score, so no file is scored half
by one version and half by another.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from scoring.csvfile import BatchError
from scoring.model import Model, ModelLoadError, load_model

_loaded: dict[ModelRef, Model] = {}
_loading = threading.Lock()         # a Dask worker may run several tasks at once


@dataclass(frozen=True)
class ModelRef:
    """Where a worker finds the model its parent scores with, and which version that is."""

    directory: str
    name: str
    version: str
    require_pins: bool = False

    @classmethod
    def of(cls, model: Model, directory: Path, require_pins: bool = False) -> ModelRef:
        return cls(str(Path(directory).resolve()), model.name, model.version, require_pins)


def worker_model(ref: ModelRef) -> Model:
    """The model `ref` names, loaded on first use in this process; a BatchError if it cannot be loaded here or its
    files have changed since the parent loaded them."""
    with _loading:
        if ref not in _loaded:
            try:
                model = load_model(Path(ref.directory), ref.name, ref.require_pins)
            except ModelLoadError as error:
                raise BatchError(f"A worker could not load the model {ref.name}: {error}") from None
            if model.version != ref.version:
                raise BatchError(f"The model {ref.name} changed while the file was being scored (v{ref.version} "
                                 f"is now v{model.version}); score the file again.")
            for older in [r for r in _loaded if (r.directory, r.name) == (ref.directory, ref.name)]:
                del _loaded[older]      # a long-lived Dask worker keeps only the version it last scored with
            _loaded[ref] = model
        return _loaded[ref]
