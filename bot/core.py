"""What a message means, and the one Reply every channel renders.

`Bot.handle` is the only place that decides what a message means: it parses
the text, finds the model, scores, and builds a channel-neutral Reply.
Problems come back as Reply values with a message for people; an unexpected
failure is logged with its traceback and answered with a short apology.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace

import parser as commands
from bot import reply
from bot.help import help_text
from bot.present import example_command, field_reply, inputs_text, row_reply, value_text
from scoring.batch import BatchError, score_csv
from scoring.model import Model
from scoring.problems import DuplicateFeature, Problem
from scoring.registry import Registry
from scoring.score import score

log = logging.getLogger(__name__)

MAX_ROWS = 50
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILE_ROWS = 200_000
TOP_K = 3


class Bot:
    def __init__(self, registry: Registry, max_rows: int = MAX_ROWS) -> None:
        self.registry = registry
        self.max_rows = max_rows

    def handle(self, text: str, sender: reply.Sender | None = None,
               attachments: Sequence[reply.Attachment] = (),
               progress: Callable[[int], None] | None = None, deadline: float | None = None) -> reply.Reply:
        """The answer to one message. With CSV attachments, the text may name the model.

        `progress` is called with the number of rows scored so far, for long files;
        past `deadline` (a `time.monotonic()` value) a file stops scoring and says so.
        """
        try:
            if attachments:
                return self.score_files(text, attachments, progress, deadline)
            return self._handle(text)
        except Exception:  # noqa: BLE001 - the user gets an apology, the log gets the traceback
            log.exception("unexpected failure answering %r", text[:200])
            return refused("Sorry, something went wrong on our side while answering that. "
                           "The bot's owner can find the details in the log.", "internal")

    def _handle(self, text: str) -> reply.Reply:
        if too_big := self.oversized(text):
            return too_big
        command = commands.parse(text)
        match command:
            case commands.ParseError():
                return parse_error(command)
            case commands.Predict():
                return self.predict(command, text)
            case commands.WhatIf():
                return self.whatif(command)
            case commands.Explain():
                return self.explain(command.model)
            case commands.Schema():
                return self.schema(command.model)
            case commands.Models():
                return self.models()
            case commands.Help():
                return reply.Reply(reply.Status.OK, reply.Help(help_text(command.topic, self.registry)))
        raise TypeError(f"no handler for {command!r}")

    def oversized(self, text: str) -> reply.Reply | None:
        """Refuse what is too long before parsing it, so no message costs more than its size allows."""
        if len(text) > commands.MAX_COMMAND_CHARS:
            return refused(f"That message is {len(text):,} characters long; one command takes up to "
                           f"{commands.MAX_COMMAND_CHARS:,}. Send many rows as a CSV file instead.", "too_long")
        if (rows := commands.count_rows(text)) > self.max_rows + 1:     # + 1: a `predict:` line of its own
            return too_many_rows(rows, self.max_rows)
        return None

    def model(self, name: str | None) -> Model | reply.Reply:
        found = self.registry.get(name)
        return refused(found.message, found.label) if isinstance(found, Problem) else found

    def predict(self, command: commands.Predict, text: str) -> reply.Reply:
        model = self.model(command.model)
        if isinstance(model, reply.Reply):
            return model
        if len(command.rows) > self.max_rows:
            return too_many_rows(len(command.rows), self.max_rows)
        named = [self.named_row(model, row) for row in command.rows]
        results = score(model, [r for r in named if not isinstance(r, Problem)], TOP_K)
        scored = iter(results)
        rows = []
        for source, named_row in zip(command.rows, named, strict=True):
            shown = text[source.span.start:source.span.end].strip()
            if isinstance(named_row, Problem):
                rows.append(reply.Row(inputs=shown, reason=named_row.message))
            else:
                rows.append(row_reply(model, next(scored), shown))
        status = reply.Status.OK if any(r.ok for r in rows) else reply.Status.NOT_PREDICTED
        scale = next((r.scale for r in results if r.ok and r.scale), "")
        return answer(status, reply.Prediction(tuple(rows), scale), model)

    def named_row(self, model: Model, row: commands.Row) -> dict[str, object] | Problem:
        if row.items and isinstance(row.items[0], commands.Value):
            return model.schema.name_positional([plain(v) for v in row.items])
        named: dict[str, object] = {}
        for pair in row.items:
            if pair.key in named:       # `age=1, age=2`: the schema only sees spellings that differ
                return DuplicateFeature(canonical(model, pair.key))
            named[pair.key] = plain(pair.value)
        return named

    def whatif(self, command: commands.WhatIf) -> reply.Reply:
        model = self.model(command.model)
        if isinstance(model, reply.Reply):
            return model
        base = self.named_row(model, command.base)
        if isinstance(base, Problem):
            return not_predicted(base.message, model)
        changes = {pair.key: plain(pair.value) for pair in command.changes.items}  # the grammar makes these pairs
        before_values = {canonical(model, k): v for k, v in base.items()}
        after = dict(before_values)
        for key, value in changes.items():
            feature = model.schema.feature(key)
            if isinstance(feature, Problem):
                return not_predicted(feature.message, model)
            after[feature.name] = value
        everything = len(model.schema.features)
        [before_result] = score(model, [base], everything)
        about = str(before_result.prediction) if model.is_classifier and before_result.ok else ""
        [after_result] = score(model, [after], everything, drivers_for=about or None)
        before = row_reply(model, before_result, inputs_text(base))
        changed = row_reply(model, after_result, inputs_text(after))
        if not (before.ok and changed.ok):
            return answer(reply.Status.NOT_PREDICTED,
                          reply.WhatIf(before, changed, (), (), before_result.scale), model)
        return answer(reply.Status.OK, reply.WhatIf(
            before=shorten(before), after=shorten(changed),
            changes=tuple(reply.Change(canonical(model, k), value_text(before_values.get(canonical(model, k))),
                                       value_text(v)) for k, v in changes.items()),
            moved=moved_drivers(before_result, after_result),
            scale=before_result.scale, about=about), model)

    def explain(self, name: str | None) -> reply.Reply:
        model = self.model(name)
        if isinstance(model, reply.Reply):
            return model
        scale, importances = model.importance
        if not importances:
            return refused(f"{model.name} has no background sample, so its global drivers are unknown.",
                           "no_background", model)
        body = reply.Explanation(tuple(reply.Importance(f, v) for f, v in importances), scale,
                                 len(model.background))
        return answer(reply.Status.OK, body, model, with_id=False)

    def schema(self, name: str | None) -> reply.Reply:
        model = self.model(name)
        if isinstance(model, reply.Reply):
            return model
        is_default = model.name == self.registry.default_name
        body = reply.SchemaInfo(tuple(field_reply(f) for f in model.schema.features),
                                example_command(model, is_default), model.card.description, model.target)
        return answer(reply.Status.OK, body, model, with_id=False)

    def score_files(self, text: str, attachments: Sequence[reply.Attachment],
                    progress: Callable[[int], None] | None = None, deadline: float | None = None) -> reply.Reply:
        model = self.model(model_named_for_files(text))
        if isinstance(model, reply.Reply):
            return model
        scored, files = [], []
        for attachment in attachments:
            result = self.score_file(model, attachment, progress, deadline)
            scored.append(result[0])
            files += result[1:]
        status = reply.Status.OK if files else reply.Status.NOT_PREDICTED
        return replace(answer(status, reply.Batch(tuple(scored)), model), files=tuple(files))

    def score_file(self, model: Model, attachment: reply.Attachment,
                   progress: Callable[[int], None] | None, deadline: float | None) -> tuple:
        name = attachment.filename
        if not name.lower().endswith(".csv") and "csv" not in attachment.content_type:
            return (reply.ScoredFile(name, error="Only CSV files can be scored; save it as .csv."),)
        if len(attachment.content) > MAX_FILE_BYTES:
            return (reply.ScoredFile(name, error=f"The file is {len(attachment.content) / 2**20:.1f} MB; "
                                     f"files up to {MAX_FILE_BYTES // 2**20} MB can be scored here. "
                                     "Split it, or run `predbot score` on it."),)
        if attachment.content.count(b"\n") > MAX_FILE_ROWS + 1:
            return (reply.ScoredFile(name, error=f"The file has more than {MAX_FILE_ROWS:,} rows; "
                                     "split it, or run `predbot score` on it."),)
        out = io.StringIO()
        try:
            summary = score_csv(model, io.BytesIO(attachment.content), out, TOP_K, progress=progress,
                                deadline=deadline)
        except BatchError as error:
            return (reply.ScoredFile(name, error=str(error)),)
        result_name = f"{name.rsplit('.', 1)[0]}-{model.name}-predictions.csv"
        return (reply.ScoredFile(name, summary.rows, summary.predicted, dict(summary.reasons),
                                 summary.ignored_columns, result=result_name),
                reply.File(result_name, out.getvalue().encode("utf-8")))

    def models(self) -> reply.Reply:
        default = self.registry.default_name
        infos = tuple(reply.ModelInfo(m.name, m.version, m.kind, m.target, m.card.description,
                                      m.name == default) for m in self.registry.models())
        return reply.Reply(reply.Status.OK, reply.Models(infos, self.registry.unavailable()))


def model_named_for_files(text: str) -> str | None:
    """The model a file is for: `predict churn`, `churn`, or nothing (the default model)."""
    words = text.replace(":", " ").split()
    if words and words[0].lower() == "predict":
        words = words[1:]
    return words[0] if len(words) == 1 else None


def plain(value: commands.Value) -> object:
    """A parsed value as the scorer takes it; the parser already read numbers and units."""
    return value.value


def canonical(model: Model, key: str) -> str:
    feature = model.schema.feature(key)
    return key if isinstance(feature, Problem) else feature.name


def moved_drivers(before, after) -> tuple[reply.Driver, ...]:
    """How each feature's contribution changed, biggest move first."""
    old = {d.feature: d.contribution for d in before.drivers}
    deltas = [(d.feature, d.value, d.contribution - old.get(d.feature, 0.0)) for d in after.drivers]
    deltas.sort(key=lambda item: -abs(item[2]))
    return tuple(reply.Driver(f, value_text(v), delta, "up" if delta > 0 else "down")
                 for f, v, delta in deltas[:TOP_K] if delta != 0)


def shorten(row: reply.Row) -> reply.Row:
    return replace(row, drivers=row.drivers[:TOP_K])


def answer(status: reply.Status, body: reply.Body, model: Model, with_id: bool = True) -> reply.Reply:
    return reply.Reply(status, body, model=model.name, version=model.version,
                       prediction_id=uuid.uuid4().hex[:12] if with_id else None)


def too_many_rows(rows: int, limit: int) -> reply.Reply:
    return refused(f"That is {rows} rows; one message takes up to {limit}. Send the rest as a CSV file.",
                   "too_many_rows")


def refused(message: str, label: str, model: Model | None = None) -> reply.Reply:
    return reply.Reply(reply.Status.REFUSED, reply.Problem(message, label=label),
                       model=model.name if model else None, version=model.version if model else None)


def not_predicted(message: str, model: Model) -> reply.Reply:
    return reply.Reply(reply.Status.NOT_PREDICTED, reply.Problem(message, label="not_predicted"),
                       model=model.name, version=model.version)


def parse_error(error: commands.ParseError) -> reply.Reply:
    return reply.Reply(reply.Status.PARSE_ERROR,
                       reply.Problem(f"I couldn't read that: expected {error.expected}.",
                                     caret=error.caret, hint=error.hint, label=error.label))
