"""What a message means, and the one Reply every channel renders.

`Bot.handle` is the only place that decides what a message means: it parses
the text, looks up the model the command names (once), scores, and builds a
channel-neutral Reply. Problems come back as Reply values with a message for
people; an unexpected failure is logged with its traceback and answered with
a short apology. With a store, every answer that has a prediction id is
recorded there, with how long each stage took, and `history`, `show` and
`feedback` read it back (bot.memory). `commands` splits a Slack or terminal
message into the commands `handle` answers one at a time.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import IO, TYPE_CHECKING, Literal

import parser
from bot import follow_up, memory, reply
from bot.help import help_text
from bot.present import example_command, field_reply, inputs_text, row_reply, whatif_body
from parser import values as literals
from scoring.batch import BatchError, column_limit, score_csv
from scoring.compare import compare
from scoring.model import Model
from scoring.problems import DuplicateFeature, MoreProblems, Problem, TooManyKeys
from scoring.registry import Registry
from scoring.score import RowResult, score

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

MAX_ROWS = 50
MAX_COMMANDS = 10                   # commands answered from one message; mail's default too
MAX_FILE_BYTES = 20 * 1024 * 1024   # files sent in chat; `predbot score` has no limit
MAX_FILE_ROWS = 200_000
TOP_K = 3
MAX_ROW_PROBLEMS = 10               # a row given as data: its problems put in words, then how many more
ANYONE = reply.Sender("")           # a sender not known, for callers that name none


@dataclass(frozen=True)
class Observation:
    """One command answered: the medium it came by, its kind (`predict`, `whatif`, ...), the reply's status, and
    the seconds each stage took (parse, score, total)."""

    medium: str
    command: str
    status: str
    seconds: dict[str, float]


Observer = Callable[[Observation], None]


class Bot:
    def __init__(self, registry: Registry, max_rows: int = MAX_ROWS, store: Store | None = None) -> None:
        self.registry = registry
        self.max_rows = max_rows
        self.store = store              # None: nothing is remembered, and `history` says so
        self.observers: list[Observer] = []     # told of every command answered (bot.metrics counts them)

    def handle(self, text: str, sender: reply.Sender | None = None,
               attachments: Sequence[reply.Attachment] = (),
               progress: Callable[[int], None] | None = None, deadline: float | None = None) -> reply.Reply:
        """The answer to one command. With CSV attachments, the text may name the model (`predict churn`).

        `progress` is called with the number of rows scored so far, for long files;
        past `deadline` (a `time.monotonic()` value) a file stops scoring and says so.
        """
        try:
            if attachments:
                return self.score_files(text, attachments, progress, deadline)
            return self._handle(text, sender or ANYONE)
        except Exception:  # noqa: BLE001 - the user gets an apology, the log gets the traceback
            log.exception("unexpected failure answering %r", text[:200])
            return reply.Reply.apology()

    def _handle(self, text: str, sender: reply.Sender) -> reply.Reply:
        """The answer to one command, recorded in the store when it has a prediction id, with the seconds each
        stage took: reading the command, answering it (scoring, mostly) and the whole."""
        started = time.perf_counter()
        if too_big := self.oversized(text, sender.channel):
            return too_big
        command = parser.parse(text)
        parsed = time.perf_counter()
        if isinstance(command, parser.ParseError):
            answered = parse_error(command)
            self.observe(sender, "unknown", answered, {"parse": parsed - started})
            return answered
        answered = self.respond(command, text, sender)
        done = time.perf_counter()
        timings = {"parse": parsed - started, "score": done - parsed, "total": done - started}
        if self.store is not None and (kept := memory.entry(answered, sender, text, timings)):
            self.store.record(kept)
        self.observe(sender, type(command).__name__.lower(), answered, timings)
        return answered

    def observe(self, sender: reply.Sender, command: str, answered: reply.Reply, seconds: dict[str, float]) -> None:
        """Tell the observers what was answered, where, and how long each stage took; one that fails is logged."""
        for observer in self.observers:
            try:
                observer(Observation(sender.medium or "unknown", command, str(answered.status), seconds))
            except Exception:  # noqa: BLE001 - counting an answer must never cost it
                log.exception("an observer failed on a %s answer", command)

    def respond(self, command: parser.Command, text: str = "", sender: reply.Sender = ANYONE) -> reply.Reply:
        """The answer to a parsed command; the model it names is looked up once, here."""
        match command:
            case parser.Models():
                return self.models()
            case parser.Help():
                return reply.Reply(reply.Status.OK, reply.Help(help_text(command.topic, self.registry)))
            case parser.History() | parser.Show() | parser.Feedback():
                return memory.recall(self.store, command, sender, self.registry.names())
            case parser.WhatIf(base=None):
                return self.whatif_on_last(command, sender)
        model = self.model(command.model)
        if isinstance(model, reply.Reply):
            return model
        match command:
            case parser.Predict():
                return self.predict(model, command, text, sender)
            case parser.WhatIf():
                return self.whatif(model, self.named_row(model, command.base), command.changes)
            case parser.Explain():
                return explain(model, memory.live(self.store, model.name))
            case parser.Schema():
                return self.describe(model)
        raise TypeError(f"no handler for {command!r}")

    def oversized(self, text: str, channel: str = "") -> reply.Reply | None:
        """Refuse what is too long before parsing it, so no message costs more than its size allows; the refusal
        says where many rows go from the sender's `channel` ("terminal", "email" or a Slack channel)."""
        if len(text) > parser.MAX_COMMAND_CHARS:
            return reply.Reply.refused(f"That message is {len(text):,} characters long; one command takes up to "
                                       f"{parser.MAX_COMMAND_CHARS:,}. "
                                       f"{more_rows(channel) or 'Send many rows as a CSV file instead.'}", "too_long")
        if (rows := parser.count_rows(text)) > self.max_rows + 1:     # + 1: a `predict:` line of its own
            return too_many_rows(rows, self.max_rows, channel)
        return None

    def model(self, name: str | None) -> Model | reply.Reply:
        return look_up(self.registry, name)

    def predict(self, model: Model, command: parser.Predict, text: str, sender: reply.Sender = ANYONE) -> reply.Reply:
        """Each row scored; a single row that gives only some fields, in a conversation whose last prediction is of
        this model, is that prediction's row with the fields given changed (bot.follow_up), and shown whole."""
        channel = sender.channel
        if not command.rows:
            return reply.Reply.refused(
                f"Give the values to predict from, like this:\n{self.example(model)}\n"
                f"`schema {model.name}` lists every field; a CSV file sent with `predict {model.name}` "
                "is scored row by row.", "no_rows", model)
        if len(command.rows) > self.max_rows:
            return too_many_rows(len(command.rows), self.max_rows, channel)
        named = [self.named_row(model, row) for row in command.rows]
        shown = [text[row.span.start:row.span.end].strip() for row in command.rows]
        if built_on := self.partial_base(model, named, sender):
            named[0] = filled(model, built_on[1], named[0])
            shown[0] = inputs_text(named[0])
        results = score(model, [r for r in named if not isinstance(r, Problem)], TOP_K)
        scored = iter(results)
        rows = []
        for inputs, named_row in zip(shown, named, strict=True):
            if isinstance(named_row, Problem):
                rows.append(reply.Row(inputs=inputs, reason=named_row.message))
            else:
                rows.append(row_reply(model, next(scored), inputs))
        status = reply.Status.OK if any(r.ok for r in rows) else reply.Status.NOT_PREDICTED
        scale = next((r.scale for r in results if r.ok and r.scale), "")
        return answer(status, reply.Prediction(tuple(rows), scale, built_on[0] if built_on else ""), model)

    def partial_base(self, model: Model, named: list[dict[str, object] | Problem],
                     sender: reply.Sender) -> tuple[str, dict[str, object]] | None:
        """The id and row of the conversation's last prediction, when it is of `model` and the one row `named`
        leaves some of the model's fields out; the store is asked only then."""
        if len(named) != 1 or isinstance(given := named[0], Problem):
            return None
        if not set(model.schema.names) - {model.field_name(key) for key in given}:
            return None
        base = follow_up.last(self.store, sender)
        if base is None or base.model != model.name or isinstance(row := self.named_row(model, base.row), Problem):
            return None
        return base.prediction_id, row

    def named_row(self, model: Model, row: parser.Row) -> dict[str, object] | Problem:
        if row.items and isinstance(row.items[0], parser.Value):
            return model.schema.name_positional([plain(v) for v in row.items])
        named: dict[str, object] = {}
        for pair in row.items:
            if pair.key in named:       # `age=1, age=2`: the schema only sees spellings that differ
                return DuplicateFeature(model.field_name(pair.key))
            named[pair.key] = plain(pair.value)
        return named

    def whatif(self, model: Model, base: dict[str, object] | Problem, changes: parser.Row,
               built_on: str = "") -> reply.Reply:
        """`base` changed by `changes`; `built_on` names the prediction a follow-up took `base` from."""
        if isinstance(base, Problem):
            return reply.Reply.not_predicted(base.message, model)
        changed = {pair.key: plain(pair.value) for pair in changes.items}  # the grammar makes these pairs
        comparison = compare(model, base, changed, TOP_K)
        if isinstance(comparison, Problem):
            return reply.Reply.not_predicted(comparison.message, model)
        status = reply.Status.OK if comparison.ok else reply.Status.NOT_PREDICTED
        return answer(status, replace(whatif_body(model, comparison), built_on=built_on), model)

    def whatif_on_last(self, command: parser.WhatIf, sender: reply.Sender) -> reply.Reply:
        """`whatif: income=80000`: the changes to the conversation's last prediction, of its model unless named."""
        base = follow_up.last(self.store, sender)
        if base is None:
            return reply.Reply.refused(follow_up.NOTHING_YET, "nothing_to_build_on")
        model = self.model(command.model or base.model)
        if isinstance(model, reply.Reply):
            return model
        if model.name != base.model:
            return reply.Reply.refused(f"The last prediction here, {base.prediction_id}, is of {base.model}, so "
                                       f"there is no {model.name} row to build on: give the whole row, "
                                       f"`whatif {model.name}: key=value, ... -> key=value`.", "nothing_to_build_on",
                                       model)
        return self.whatif(model, self.named_row(model, base.row), command.changes, base.prediction_id)

    def schema(self, name: str | None) -> reply.Reply:
        """`schema NAME` without the parsing, for `predbot schema` and the chat's greeting."""
        return self.respond(parser.Schema(name))

    def describe(self, model: Model) -> reply.Reply:
        body = reply.SchemaInfo(tuple(field_reply(f) for f in model.schema.features), self.example(model),
                                model.card.description, model.target)
        return answer(reply.Status.OK, body, model, with_id=False)

    def example(self, model: Model) -> str:
        return example_command(model, model.name == self.registry.default_name)

    def score_files(self, text: str, attachments: Sequence[reply.Attachment],
                    progress: Callable[[int], None] | None = None, deadline: float | None = None) -> reply.Reply:
        model = self.model(self.named_for_files(text))
        if isinstance(model, reply.Reply):
            return model
        scored, files = [], []
        for attachment in attachments:
            result, file = score_attachment(model, attachment, progress, deadline)
            scored.append(result)
            files += [file] if file else []
        return batch_reply(model, scored, files)

    def named_for_files(self, text: str) -> str | None:
        """The model files are for: `predict churn` (or `predict churn:`) names one; anything else, the default."""
        command = None if self.oversized(text) else parser.parse(text)
        return command.model if isinstance(command, parser.Predict) and not command.rows else None

    def models(self, reasons: bool = False) -> reply.Reply:
        """The models serving, and the model files that did not load. A chat names those only, as a reason can hold
        a path; `reasons` is for the operator's `predbot models`: why each file failed, including one whose older
        version keeps serving."""
        default = self.registry.default_name
        infos = tuple(reply.ModelInfo(m.name, m.version, m.kind, m.target, m.card.description, m.name == default,
                                      memory.live(self.store, m.name)) for m in self.registry.models())
        why = self.registry.failures() if reasons else {}
        return reply.Reply(reply.Status.OK, reply.Models(infos, self.registry.unavailable(), why))

    def predict_rows(self, name: str | None, rows: Sequence[Mapping[str, object] | Sequence[object]],
                     sender: reply.Sender = ANYONE, top_k: int | None = None, drivers: Drivers = "top") -> Scored:
        """Rows given as data rather than typed (the HTTP API), scored as `predict` scores typed ones: a row of
        values alone is in the model's field order. `drivers` is "top" (`top_k` of them, else the card's), "all"
        (one per field) or "none". Recorded and observed as a `predict` command is, so `show`, `feedback` and the
        metrics know it; an unknown model is a refusal, as in chat."""
        started = time.perf_counter()
        model = self.model(name)
        if isinstance(model, reply.Reply):
            return Scored(model)
        named = [data_row(model, row) for row in rows]
        read = time.perf_counter()
        wanted = len(model.schema.features) if drivers == "all" else top_k
        scored = iter(score(model, [row for row in named if not isinstance(row, Problem)], wanted,
                            drivers=drivers != "none"))
        results = tuple(at_most(replace(next(scored), index=at), MAX_ROW_PROBLEMS) if not isinstance(row, Problem)
                        else RowResult(at, {}, errors=(row,)) for at, row in enumerate(named))
        body = reply.Prediction(tuple(row_reply(model, result, inputs_text(result.inputs)) for result in results),
                                next((r.scale for r in results if r.ok and r.scale), ""))
        answered = answer(reply.Status.OK if any(r.ok for r in results) else reply.Status.NOT_PREDICTED, body, model)
        done = time.perf_counter()
        timings = {"parse": read - started, "score": done - read, "total": done - started}
        asked = f"predict {model.name}: " + "; ".join(row.inputs for row in body.rows if row.inputs)
        if self.store is not None and (kept := memory.entry(answered, sender, asked, timings)):
            self.store.record(kept)
        self.observe(sender, "predict", answered, timings)
        return Scored(answered, results)

    def model_asked(self, text: str) -> str | None:
        """The model a message's command is about, as the registry spells it: the one it names, else the default;
        None when that is no model served (the answer says so)."""
        command = None if self.oversized(text) else parser.parse(text)
        named = command.model if isinstance(command, ABOUT_A_MODEL) else None
        found = self.registry.get(named)
        return None if isinstance(found, Problem) else found.name

    def show(self, prediction_id: str, sender: reply.Sender) -> reply.Reply:
        """`show ID` without the parsing: the answer kept, as `sender` may see it, or a refusal."""
        return memory.recall(self.store, parser.Show(prediction_id.lower()), sender, self.registry.names())

    def feedback(self, prediction_id: str, row: int, actual: object, sender: reply.Sender) -> reply.Reply:
        """`feedback ID row=N actual=VALUE` without the parsing: `actual` a value as data (text, a number, yes/no
        or None), read as the command reads what is typed."""
        command = parser.Feedback(prediction_id.lower(), row, spoken(actual))
        return memory.recall(self.store, command, sender, self.registry.names())


Drivers = Literal["top", "all", "none"]
ABOUT_A_MODEL = parser.Predict | parser.WhatIf | parser.Explain | parser.Schema | parser.History


@dataclass(frozen=True)
class Scored:
    """Rows given as data, scored: the Reply chat would give (kept under its id), and each row's RowResult, whose
    values and problems a program reads; or only a refusal (no such model), and no results."""

    reply: reply.Reply
    results: tuple[RowResult, ...] = ()


def data_row(model: Model, row: Mapping[str, object] | Sequence[object]) -> dict[str, object] | Problem:
    """A row given as data, named: a mapping as it is, unless it has far more keys than the model has fields (each
    unknown key costs a search for the field it may mean); values alone in the model's field order."""
    if not isinstance(row, Mapping):
        return model.schema.name_positional(list(row))
    if len(row) > (most := column_limit(model)):
        return TooManyKeys(len(row), most)
    return dict(row)


def at_most(result: RowResult, count: int) -> RowResult:
    """`result` with its first `count` problems, and one that counts the rest: each is put in words for the answer,
    and a row of junk keys must not cost, or say, more than its size."""
    if len(result.errors) <= count:
        return result
    return replace(result, errors=(*result.errors[:count], MoreProblems(len(result.errors) - count)))


def spoken(value: object) -> parser.Value:
    """A value given as data, as the command language would have read it typed."""
    if isinstance(value, bool):
        return parser.Value("bool", "yes" if value else "no", value)
    if isinstance(value, int | float):
        return parser.Value("number", str(value), value)
    text = "" if value is None else str(value)
    read = literals.read(text)
    if read is None:
        return parser.Value("missing", text, None)
    if isinstance(read, bool):
        return parser.Value("bool", text, read)
    return parser.Value("string" if isinstance(read, str) else "number", text, read)


def commands(text: str, limit: int = MAX_COMMANDS) -> tuple[list[str], reply.Reply | None]:
    """The commands in a Slack or terminal message, in order, and a refusal for any past the first `limit`.

    Prose between commands is dropped; a message with no command is taken whole, so it gets its parse error.
    """
    found = parser.segment(text) or [text]
    if len(found) <= limit:
        return found, None
    left = len(found) - limit
    return found[:limit], reply.Reply.refused(
        f"Your message has {len(found)} commands; I answered the first {limit} and not the other {left}. "
        "Send those again, or many rows as a CSV file.", "too_many_commands")


def look_up(registry: Registry, name: str | None) -> Model | reply.Reply:
    """The model called `name` (None: the default one), or a refusal that says which models there are."""
    found = registry.get(name)
    return reply.Reply.refused(found.message, found.label) if isinstance(found, Problem) else found


def explain(model: Model, live: tuple[reply.LiveAccuracy, ...] = ()) -> reply.Reply:
    """The model's global drivers, and how it has done since people said what really happened (`live`)."""
    scale, importances = model.importance
    if not importances:
        return reply.Reply.refused(f"{model.name} has no background sample, so its global drivers are unknown.",
                                   "no_background", model)
    body = reply.Importances(tuple(reply.Importance(f, v) for f, v in importances), scale, len(model.background),
                             live)
    return answer(reply.Status.OK, body, model, with_id=False)


def score_attachment(model: Model, attachment: reply.Attachment, progress: Callable[[int], None] | None,
                     deadline: float | None) -> tuple[reply.ScoredFile, reply.File | None]:
    """A file sent in chat, within the chat's limits; its results travel beside the reply as a File."""
    name = attachment.filename
    if refusal := attachment_refusal(attachment):
        return reply.ScoredFile(name, error=refusal), None
    results, out = f"{name.rsplit('.', 1)[0]}-{model.name}-predictions.csv", io.StringIO()
    scored = score_stream(model, name, io.BytesIO(attachment.content), out, results, TOP_K, progress, deadline)
    return scored, None if scored.error else reply.File(results, out.getvalue().encode("utf-8"))


def attachment_refusal(attachment: reply.Attachment) -> str | None:
    if not attachment.filename.lower().endswith(".csv") and "csv" not in attachment.content_type:
        return "Only CSV files can be scored; save it as .csv."
    if len(attachment.content) > MAX_FILE_BYTES:
        return file_too_big(len(attachment.content))
    if attachment.content.count(b"\n") > MAX_FILE_ROWS + 1:
        return f"The file has more than {MAX_FILE_ROWS:,} rows; split it, or run `predbot score` on it."
    return None


def file_too_big(size: int | None) -> str:
    """Why a file sent in chat is not scored; `size` None when only the download's length told."""
    shown = f"{size / 2**20:.1f} MB" if size else "too big"
    return (f"The file is {shown}; files up to {MAX_FILE_BYTES // 2**20} MB can be scored here. "
            "Split it, or run `predbot score` on it.")


def score_stream(model: Model, name: str, source: IO[bytes], destination: IO[str], results: str | None = None,
                 top_k: int | None = TOP_K, progress: Callable[[int], None] | None = None,
                 deadline: float | None = None, renames: dict[str, str] | None = None,
                 decimal: str | None = None) -> reply.ScoredFile:
    """The CSV bytes in `source` scored into `destination`, for chat and `predbot score` alike (no size
    limit here). A file that cannot be scored says why in its ScoredFile; `results` names `destination`.
    `renames` (column -> field) and `decimal` (None: sniffed) are `predbot score`'s --map and --decimal."""
    try:
        summary = score_csv(model, source, destination, top_k, progress=progress, deadline=deadline,
                            renames=renames, decimal=decimal)
    except BatchError as error:
        return reply.ScoredFile(name, error=str(error))
    return reply.ScoredFile(name, summary.rows, summary.predicted, dict(summary.reasons), summary.ignored_columns,
                            dict(summary.suggestions), result=results)


def batch_reply(model: Model, scored: Sequence[reply.ScoredFile], files: Sequence[reply.File] = ()) -> reply.Reply:
    status = reply.Status.OK if any(f.error is None for f in scored) else reply.Status.NOT_PREDICTED
    return replace(answer(status, reply.Batch(tuple(scored)), model), files=tuple(files))


def plain(value: parser.Value) -> object:
    """A parsed value as the scorer takes it; the parser already read numbers and units."""
    return value.value


def filled(model: Model, base: dict[str, object], given: dict[str, object]) -> dict[str, object]:
    """`base` with the fields `given` changed, each under the name the schema gives it, so `fee` changes
    `monthly_fee`: the person's fields win."""
    return {model.field_name(key): value for row in (base, given) for key, value in row.items()}


def answer(status: reply.Status, body: reply.Body, model: Model, with_id: bool = True) -> reply.Reply:
    return reply.Reply(status, body, model=model.name, version=model.version,
                       prediction_id=uuid.uuid4().hex[:12] if with_id else None)


def too_many_rows(rows: int, limit: int, channel: str = "") -> reply.Reply:
    return reply.Reply.refused(f"That is {rows} rows; one message takes up to {limit}. "
                               f"{more_rows(channel) or 'Send the rest as a CSV file.'}", "too_many_rows")


def more_rows(channel: str) -> str | None:
    """Where more rows than a message takes go, by the sender's channel: `predbot score` in a terminal, a CSV
    file attached to a mail or shared in Slack (whose channels are ids); None when the channel is not known."""
    csv = "a CSV file (a header of field names, then one row a line)"
    match channel:
        case "terminal":
            return f"Put the rows in {csv} and run `predbot score FILE.csv`."
        case "email":
            return f"Attach the rows to a mail as {csv}."
        case "":
            return None
    return f"Share the rows as {csv} in a DM with me, or here with a mention of me."


def parse_error(error: parser.ParseError) -> reply.Reply:
    return reply.Reply(reply.Status.PARSE_ERROR,
                       reply.Unanswered(f"I couldn't read that: expected {error.expected}.",
                                        caret=error.caret, hint=error.hint, label=error.label))
