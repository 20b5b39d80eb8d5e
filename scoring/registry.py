"""The models directory: which models exist, loaded once, reloaded when their files change.

A reload builds the new model completely before swapping it in, so a request
sees either the old model or the new one. A new file that fails to load leaves
the old model serving; the reason goes to the log.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from scoring.card import CardError, load_card
from scoring.model import Model, ModelLoadError, load_model, model_files
from scoring.problems import Problem, did_you_mean, listing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnknownModel(Problem):
    label = "unknown_model"
    name: str
    known: tuple[str, ...]

    @property
    def message(self) -> str:
        if not self.known:
            return "No models are installed. The bot's owner needs to add one."
        guess = did_you_mean(self.name, self.known)
        hint = f"Did you mean '{guess}'?" if guess else f"Models: {listing(self.known)}."
        return f"There is no model called '{self.name}'. {hint}"


@dataclass(frozen=True)
class NoDefaultModel(Problem):
    label = "no_default_model"
    known: tuple[str, ...]

    @property
    def message(self) -> str:
        return (f"Which model? Name one, e.g. `predict {self.known[0]}: ...`. "
                f"Models: {listing(self.known)}.")


@dataclass(frozen=True)
class ModelUnavailable(Problem):
    label = "model_unavailable"
    name: str

    @property
    def message(self) -> str:
        return f"The model '{self.name}' cannot be loaded right now. The bot's owner can see why in the log."


@dataclass(frozen=True)
class _Entry:
    signature: tuple
    model: Model | None


class Registry:
    def __init__(self, directory: Path, default: str | None = None) -> None:
        self.directory = Path(directory)
        self._default = default
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(p.stem for p in self.directory.glob("*.joblib")))

    def models(self) -> list[Model]:
        """Every model that loads, fresh."""
        return [m for m in (self.get(n) for n in self.names()) if isinstance(m, Model)]

    @property
    def default_name(self) -> str | None:
        names = self.names()
        if self._default in names:
            return self._default
        marked = [n for n in names if self._card_says_default(n)]
        if len(marked) == 1:
            return marked[0]
        return names[0] if len(names) == 1 else None

    def get(self, name: str | None = None) -> Model | Problem:
        """The named model (or the default), reloaded first if its files changed."""
        names = self.names()
        if name is None:
            name = self.default_name
            if name is None:
                return NoDefaultModel(names) if names else UnknownModel("", names)
        matched = {n.lower(): n for n in names}.get(name.lower())
        if matched is None:
            return UnknownModel(name, names)
        model = self._fresh(matched)
        return model if model is not None else ModelUnavailable(matched)

    def _fresh(self, name: str) -> Model | None:
        with self._lock:
            signature = self._signature(name)
            entry = self._entries.get(name)
            if entry is not None and entry.signature == signature:
                return entry.model
            try:
                model = load_model(self.directory, name)
            except ModelLoadError as error:
                log.error("model %s not loaded: %s%s", name, error,
                          "; the previous version keeps serving" if entry and entry.model else "")
                model = entry.model if entry else None
            self._entries[name] = _Entry(signature, model)
            return model

    def _signature(self, name: str) -> tuple:
        try:
            files = model_files(self.directory, name)
            return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        except (OSError, CardError):
            return ("unreadable",)

    def _card_says_default(self, name: str) -> bool:
        try:
            return load_card(self.directory / f"{name}.yaml").default
        except CardError:
            return False
