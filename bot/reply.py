"""Channel-neutral messages: what came in and what goes back.

Every channel turns its platform event into `Incoming` and renders a `Reply`;
nothing Slack-, SMTP- or terminal-shaped passes into `bot.core`. A Reply is
plain data with one body per kind of answer, so `asdict` gives the JSON the
terminal's `--json` prints, and `Reply.from_dict` reads it back (the store
keeps answers that way, for `show ID`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from enum import StrEnum
from typing import Any, Protocol, get_args, get_origin, get_type_hints

APOLOGY = ("Sorry, something went wrong on our side while answering that. "
           "The bot's owner can find the details in the log.")


class Status(StrEnum):
    OK = "ok"                        # answered
    PARSE_ERROR = "parse_error"      # the text is not a command we understand
    NOT_PREDICTED = "not_predicted"  # understood, but no row could be predicted
    REFUSED = "refused"              # understood, but not answered (unknown model, too big, not allowed)


@dataclass(frozen=True)
class Sender:
    """Who asked, and where: enough to answer them, and to find what they asked again (bot.memory)."""

    id: str                     # Slack user id, mail address, terminal user
    name: str = ""
    channel: str = ""           # where answers go: "terminal", "email", or a Slack channel id (D... for a DM)
    medium: str = ""            # "slack", "email" or "terminal"; "" when not known
    workspace: str = ""         # the Slack team id; the bot's mail domain
    conversation: str = ""      # who else sees the answers, and what follow-ups build on: a Slack channel id,
                                # the mail thread's first Message-ID, "terminal:<session>" for a chat
    thread: str = ""            # the Slack thread_ts answers go to, if any

    @classmethod
    def terminal(cls, user: str, session: str = "") -> Sender:
        """Someone at predbot's own terminal. A `predbot chat` run is a `session`, a conversation of its own that
        follow-ups build on; `predbot ask` has none, so what it answers is seen again only by its asker and never
        built on (an ask a day later must not follow up an old chat)."""
        return cls(user, channel="terminal", medium="terminal", conversation=f"terminal:{session}" if session else "")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "text/csv"


@dataclass(frozen=True)
class Factor:
    """One input's push on a prediction, as people read it (scoring's Driver carries the raw value)."""

    feature: str
    value: str
    contribution: float
    direction: str          # "up" raises the explained class's chance (Row.drivers_for) or the value, "down" lowers it


@dataclass(frozen=True)
class Row:
    inputs: str                              # the row as the user gave it, e.g. "age=45, income=60000"
    prediction: str | None = None            # label, or the value formatted for people
    value: float | None = None               # regressors: the raw predicted value
    confidence: float | None = None          # classifiers: probability of the predicted class
    probabilities: dict[str, float] = field(default_factory=dict)
    drivers: tuple[Factor, ...] = ()
    drivers_for: str = ""                    # classifiers: the class the drivers explain (binary: the positive one)
    base_value: float | None = None          # the drivers start here and, all of them, add up to the model's output
    warnings: tuple[str, ...] = ()
    reason: str | None = None                # why it was not predicted
    output: float | None = None              # what every driver, shown or not, adds up to from base_value

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class Prediction:
    rows: tuple[Row, ...]
    scale: str = ""                          # what driver contributions measure
    built_on: str = ""                       # a follow-up's: the id of the prediction its row was filled from


@dataclass(frozen=True)
class Change:
    feature: str
    before: str
    after: str


@dataclass(frozen=True)
class WhatIf:
    """Both answers and the move between them, split so its parts add up: `moved` + `others` = `total`."""

    before: Row
    after: Row
    changes: tuple[Change, ...]
    moved: tuple[Factor, ...]                # how much each changed field moved the answer, biggest first
    scale: str = ""
    about: str = ""                          # classifiers: the class whose chance the moves measure
    others: float = 0.0                      # what the unchanged fields moved it by, through interactions
    total: float | None = None               # the whole move, on `scale`; None when there are no drivers
    built_on: str = ""                       # a follow-up's: the id of the prediction it changed


@dataclass(frozen=True)
class LiveAccuracy:
    """How a model version has done on the predictions people said the real outcome of (`feedback`)."""

    version: str
    count: int                               # predictions with feedback
    accuracy: float | None = None            # classifiers: the share that were right
    mean_absolute_error: float | None = None  # regressors


@dataclass(frozen=True)
class Importance:
    feature: str
    mean_abs: float


@dataclass(frozen=True)
class Importances:
    """What drives a model overall (`explain`); scoring's Explanation is the per-row SHAP values."""

    importances: tuple[Importance, ...]
    scale: str
    rows: int                                # background rows the averages are taken over
    live: tuple[LiveAccuracy, ...] = ()      # newest version first


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    allowed: str                             # "18 to 80", "Basic, Premium", "yes or no"
    unit: str = ""
    description: str = ""
    aliases: tuple[str, ...] = ()
    optional: bool = False                   # the model fills it in when missing


@dataclass(frozen=True)
class SchemaInfo:
    fields: tuple[Field, ...]
    example: str                             # a command that parses and scores
    description: str = ""
    target: str = ""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    kind: str
    target: str
    description: str
    default: bool = False
    live: tuple[LiveAccuracy, ...] = ()      # newest version first


@dataclass(frozen=True)
class Models:
    models: tuple[ModelInfo, ...]
    unavailable: tuple[str, ...] = ()        # model files that did not load; the log says why
    reasons: dict[str, str] = field(default_factory=dict)  # the operator's view only (a reason can hold a path):
                                                            # every file that failed, with why, served or not


@dataclass(frozen=True)
class ScoredFile:
    filename: str
    rows: int = 0
    predicted: int = 0
    reasons: dict[str, int] = field(default_factory=dict)   # why rows were not predicted: label -> count
    ignored_columns: tuple[str, ...] = ()
    suggestions: dict[str, str] = field(default_factory=dict)  # an ignored column -> the field it may mean
    error: str | None = None                               # why the whole file was not scored
    result: str | None = None                              # name of the result CSV in Reply.files

    @property
    def rejected(self) -> int:
        return self.rows - self.predicted


@dataclass(frozen=True)
class Batch:
    """Scored files; each result travels as a CSV in Reply.files."""

    files: tuple[ScoredFile, ...]


@dataclass(frozen=True)
class Help:
    text: str


@dataclass(frozen=True)
class Unanswered:
    """Why a message got no answer (the Reply's status says which kind); not scoring's row-level Problem."""

    message: str
    caret: str = ""                          # the offending line with ^ under the column
    hint: str = ""
    label: str = ""


@dataclass(frozen=True)
class Outcome:
    row: int                                 # counted from 1
    actual: str                              # what it really was, by the latest feedback


@dataclass(frozen=True)
class Remembered:
    """An answer the store kept: `show ID` shows one, `history` a line of each."""

    prediction_id: str
    at: str                                  # when it was asked: ISO 8601, UTC
    asked: str                               # the command as it was written
    model: str
    version: str
    answer: Prediction | WhatIf
    outcomes: tuple[Outcome, ...] = ()


@dataclass(frozen=True)
class History:
    """The sender's own last predictions, newest first."""

    past: tuple[Remembered, ...]
    model: str | None = None                 # only this model's
    asked: int = 10                          # how many were asked for
    most: int = 50                           # how many `history` lists at most


@dataclass(frozen=True)
class Noted:
    """Feedback kept: what a row of a prediction really was, beside what the model said."""

    prediction_id: str
    row: int                                 # counted from 1
    rows: int                                # in the prediction
    actual: str
    predicted: str
    right: bool | None = None                # classifiers
    off_by: float | None = None              # regressors: actual - predicted
    live: LiveAccuracy | None = None         # the model version's, this feedback included


@dataclass(frozen=True)
class File:
    filename: str
    content: bytes
    content_type: str = "text/csv"


Body = (Prediction | WhatIf | Importances | SchemaInfo | Models | Batch | Help | Unanswered | History | Remembered
        | Noted)
BODIES = {kind.__name__.lower(): kind for kind in get_args(Body)}     # by the `type` that to_dict gives each


class Versioned(Protocol):
    """The model a reply names; scoring's Model is one, and this module need not import scoring."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...


@dataclass(frozen=True)
class Reply:
    status: Status
    body: Body
    model: str | None = None
    version: str | None = None
    prediction_id: str | None = None
    files: tuple[File, ...] = ()

    @classmethod
    def refused(cls, message: str, label: str, model: Versioned | None = None) -> Reply:
        """Understood, but not answered: `message` says what was wrong and what to do."""
        return cls(Status.REFUSED, Unanswered(message, label=label),
                   model=model.name if model else None, version=model.version if model else None)

    @classmethod
    def not_predicted(cls, message: str, model: Versioned) -> Reply:
        return cls(Status.NOT_PREDICTED, Unanswered(message, label="not_predicted"),
                   model=model.name, version=model.version)

    @classmethod
    def apology(cls) -> Reply:
        """For a failure of ours: the log has the traceback, the person gets this."""
        return cls.refused(APOLOGY, "internal")

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def to_dict(self) -> dict:
        """The JSON contract: stable keys, `body.type` names the kind of answer."""
        data = asdict(self)
        data["status"] = str(self.status)
        data["body"] = {"type": type(self.body).__name__.lower(), **asdict(self.body)}
        data["files"] = [{"filename": f.filename, "content_type": f.content_type, "bytes": len(f.content)}
                         for f in self.files]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reply:
        """`to_dict` backwards, for an answer kept as JSON. Its files are not kept (to_dict only names them)."""
        body = dict(data["body"])
        return cls(Status(data["status"]), built(BODIES[body.pop("type")], body), data.get("model"),
                   data.get("version"), data.get("prediction_id"))


def built(kind: Any, data: Any) -> Any:
    """JSON data as `kind`, by its type hints: a dataclass (from a dict), a tuple of them (from a list), or plain
    data as it is. A choice of dataclasses (Remembered.answer) is not named in JSON, so it cannot be read back."""
    if is_dataclass(kind):
        hints = get_type_hints(kind)
        return kind(**{f.name: built(hints[f.name], data[f.name]) for f in fields(kind) if f.name in data})
    if get_origin(kind) is tuple:
        return tuple(built(get_args(kind)[0], item) for item in data)
    if any(is_dataclass(choice) for choice in get_args(kind)):
        raise TypeError(f"JSON does not say which of {kind} this is")
    return data
