"""The models directory: which models exist, loaded at startup and on reload, never by a request.

A joblib file is a pickle, and unpickling it runs code. So model files are
read only when the operator's process decides: `refresh()` at startup and the
`watch()` thread that calls it when files change. A request only reads the
snapshot the last refresh left: `get`, `names`, `models` and `default_name`
never open a model file, so nobody can make the bot load a file by chatting.
Each model's explainer is built as it loads, so no request waits for one.

A lazy registry (`lazy=True`) is for the operator's own terminal only (`predbot
ask`, `chat`, `models`, `schema`, `score`): there the person typing is the
operator, so a file loaded when they first name its model is still loaded when
the operator decides. Its refresh only lists the files and reads their cards
(YAML, which also say which model is the default); `get` loads the model it
is asked for, and `models`, `unavailable` and `failures` every model, each at
most once; an explainer waits for the first drivers asked of its model.
`predbot serve`, which answers other people, never uses one.

A refresh builds every new model completely, then swaps the whole snapshot
in, so a request sees either the old model or the new one. A new file that
fails to load, or fails its pin, leaves the old model serving; the reason
goes to the log and is kept for `failures()`. A reason can name a path, so it
is for the operator (the log, `predbot models` in a terminal); people asking
in a chat hear only that a model cannot be loaded.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from scoring.card import CardError, load_card
from scoring.model import Model, ModelLoadError, load_model, model_files
from scoring.problems import Problem, did_you_mean, listing, shown

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
        return f"There is no model called {shown(self.name)}. {hint}"


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
        return f"The model {shown(self.name)} cannot be loaded right now. The bot's owner can see why in the log."


@dataclass(frozen=True)
class _Entry:
    signature: tuple
    model: Model | None       # None: found at the last refresh, but no version of it has loaded
    default: bool             # its card says `default: true`
    failure: str | None = None    # why its current files did not load, for the operator
    pending: bool = False     # a lazy registry's: its current files are not loaded yet (`model` is an older version)


class Registry:
    """The models of one directory, as of the last `refresh()`; empty before the first.

    `lazy`: load each model when it is first asked for, not at refresh (only for the operator's own terminal: see
    the module's docstring).
    """

    def __init__(self, directory: Path, default: str | None = None, require_pins: bool = False,
                 lazy: bool = False) -> None:
        self.directory = Path(directory)
        self.require_pins = require_pins
        self.lazy = lazy
        self._default = default
        self._entries: dict[str, _Entry] = {}     # replaced whole by refresh() and a lazy load, never changed in place
        self._refreshing = threading.Lock()

    def refresh(self) -> None:
        """Scan the directory: load new or changed model files (a lazy registry notes them, to be loaded when first
        asked for), drop removed ones.

        The only place a model file is unpickled, but for a lazy registry's first use of a model. Safe to call
        from any thread; concurrent calls run one after the other.
        """
        with self._refreshing:
            if not self.directory.is_dir():
                log.error("models directory %s is missing or not a directory; nothing reloaded",
                          self.directory)
                return
            old = self._entries
            fresh: dict[str, _Entry] = {}
            for name in sorted(p.stem for p in self.directory.glob("*.joblib")):
                signature = self._signature(name)
                entry = old.get(name)
                if entry is None or entry.signature != signature:
                    entry = self._pending(name, signature, entry) if self.lazy else self._load(name, signature, entry)
                fresh[name] = entry
            self._entries = fresh
        # logged after the swap, so whoever reads this line finds the new version serving
        for name, entry in fresh.items():
            self._log_loaded(name, entry, old.get(name))
        for name in old.keys() - fresh.keys():
            log.info("model %s removed from %s", name, self.directory)

    def watch(self, interval: float = 2.0) -> Watcher:
        """Refresh every `interval` seconds in a daemon thread, until the returned Watcher is stopped."""
        return Watcher(self, interval)

    def names(self) -> tuple[str, ...]:
        """Every model file found by the last refresh, whether or not it loaded (or has been tried)."""
        return tuple(sorted(self._entries))

    def models(self) -> list[Model]:
        """Every model serving now."""
        return [e.model for _, e in sorted(self._all_loaded().items()) if e.model is not None]

    def unavailable(self) -> tuple[str, ...]:
        """Model files the last refresh found with no version serving; `failures()` says why."""
        return tuple(n for n, e in sorted(self._all_loaded().items()) if e.model is None)

    def failures(self) -> dict[str, str]:
        """Why each model whose current files did not load failed, by name; for the operator only, as a reason
        can name a path. An older version of such a model may still be serving, and the reason says so."""
        return {n: e.failure for n, e in sorted(self._all_loaded().items()) if e.failure is not None}

    @property
    def default_name(self) -> str | None:
        return self._default_in(self._entries)

    def get(self, name: str | None = None) -> Model | Problem:
        """The named model (or the default) as of the last refresh, or the problem in words for people; a lazy
        registry loads it first if it has not yet."""
        entries = self._entries
        names = tuple(sorted(entries))
        if name is None:
            name = self._default_in(entries)
            if name is None:
                return NoDefaultModel(names) if names else UnknownModel("", names)
        matched = {n.lower(): n for n in names}.get(name.lower())
        if matched is None:
            return UnknownModel(name, names)
        entry = entries[matched]
        if entry.pending:
            entry = self._loaded(matched) or entry
        return entry.model if entry.model is not None else ModelUnavailable(matched)

    def _default_in(self, entries: dict[str, _Entry]) -> str | None:
        if self._default in entries:
            return self._default
        marked = [n for n, e in sorted(entries.items()) if e.default]
        if len(marked) == 1:
            return marked[0]
        return next(iter(entries)) if len(entries) == 1 else None

    def _all_loaded(self) -> dict[str, _Entry]:
        """The entries, with a lazy registry's models that are not loaded yet loaded first."""
        for name in [n for n, e in self._entries.items() if e.pending]:
            self._loaded(name)
        return self._entries

    def _loaded(self, name: str) -> _Entry | None:
        """A lazy registry's entry for `name`, its files loaded now unless another thread has just done so; None if
        a refresh has just dropped it."""
        with self._refreshing:
            pending = self._entries.get(name)
            if pending is None or not pending.pending:
                return pending
            entry = self._load(name, pending.signature, pending)
            self._entries = {**self._entries, name: entry}
        self._log_loaded(name, entry, pending)
        return entry

    def _pending(self, name: str, signature: tuple, previous: _Entry | None) -> _Entry:
        return _Entry(signature, previous.model if previous else None, self._card_says_default(name), pending=True)

    def _load(self, name: str, signature: tuple, previous: _Entry | None) -> _Entry:
        serving = previous.model if previous else None
        try:
            model = load_model(self.directory, name, self.require_pins)
        except ModelLoadError as error:
            failure = f"{error}; the previous version keeps serving (v{serving.version})" if serving else str(error)
            log.error("model %s not loaded: %s", name, failure)
            return _Entry(signature, serving, serving.card.default if serving else self._card_says_default(name),
                          failure)
        return _Entry(signature, model if self.lazy else model.warm(), model.card.default)

    @staticmethod
    def _log_loaded(name: str, entry: _Entry, previous: _Entry | None) -> None:
        if not entry.pending and entry.model is not None and (previous is None or entry.model is not previous.model):
            log.info("model %s loaded (version %s)", name, entry.model.version)

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


class Watcher:
    """A daemon thread that refreshes a registry every `interval` seconds until `stop()`.

    Refreshing only loads files whose name, size or modification time changed,
    so an idle tick costs a directory listing and a few stats.
    """

    def __init__(self, registry: Registry, interval: float) -> None:
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(registry, interval),
                                        name="predbot-models-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop refreshing, waiting up to `timeout` seconds for a refresh under way.

        The thread is a daemon, so a longer refresh never holds up the process's exit.
        """
        self._stopping.set()
        self._thread.join(timeout)

    def _run(self, registry: Registry, interval: float) -> None:
        while not self._stopping.wait(interval):
            try:
                registry.refresh()
            except Exception:  # noqa: BLE001 - a dead watcher would silently stop every reload
                log.exception("refreshing the models in %s failed; trying again in %s s",
                              registry.directory, interval)
