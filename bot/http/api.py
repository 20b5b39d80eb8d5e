"""The /v1 API: predictions from JSON rows, chat's commands, the models, and predictions kept.

A thin adapter: `bot.core.Bot` decides what a request means (which model,
how each row is read, what is recorded and counted) on the Answerer's scoring
threads; this module turns JSON into its arguments and its answers and
refusals into JSON and problem+json. Every route is the `keys.caller`'s: a
key restricted to some models gets 403 for the others.

A body is read only up to `Settings.max_body_bytes` and parsed as strict JSON
(bodies.py) before FastAPI sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute

import parser
from bot import reply
from bot.core import Bot, Scored
from bot.http import keys
from bot.http.bodies import is_json, strict_json, within
from bot.http.context import Context, context_of
from bot.http.problems import Problem
from bot.http.schemas import (AskRequest, AskResponse, FeedbackRequest, ModelDetail, ModelList, Noted,
                              PredictRequest, PredictResponse, Remembered, problems)
from bot.memory import live
from bot.present import allowed_text, field_errors
from bot.render.chart import Chart, chart_of, draws
from scoring.score import RowResult

DRIVERS = {"true": "top", "false": "none", "all": "all"}
NOT_FOUND = {"unknown_model", "unknown_id", "not_yours", "no_memory"}


class BoundedRequest(Request):
    """A request whose body is read up to the server's limit, then taken as strict JSON (see the module's
    docstring); past the limit, a 413 problem."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            self._body = await within(self, self.app.state.context.settings.max_body_bytes)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_json(await self.body())
        return self._json


class BoundedRoute(APIRoute):
    """A route that reads and parses its body (when it takes one) as a BoundedRequest, before FastAPI does."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        if self.body_field is None:
            return handle

        async def bounded(request: Request) -> Response:
            request = BoundedRequest(request.scope, request.receive)
            if await request.body():
                if not is_json(request.headers.get("content-type", "")):
                    raise Problem(415, "Send the body as JSON, with `Content-Type: application/json`.",
                                  "unsupported_media_type")
                await request.json()
            return await handle(request)

        return bounded


router = APIRouter(prefix="/v1", route_class=BoundedRoute, tags=["v1"])
Caller = Annotated[keys.Caller, Depends(keys.caller)]
Served = Annotated[Context, Depends(context_of)]


@router.post("/models/{name}/predict", response_model=PredictResponse, response_model_exclude_unset=True,
             responses=problems(400, 401, 403, 404, 413, 415, 422, 429, 503))
async def predict(name: str, body: PredictRequest, caller: Caller, context: Served,
                  include_drivers: Literal["true", "false", "all"] = "true",
                  top_k: Annotated[int | None, Query(ge=1, le=1000)] = None,
                  include_source: bool = False, include_not_predicted_reason: bool = True,
                  index: Annotated[str | None, Query(min_length=1)] = None) -> dict[str, Any]:
    """Predict each row; the rows that cannot be predicted say why, and the others still are."""
    caller.check(name)
    if len(body.rows) > (most := context.settings.max_rows):
        raise Problem(413, f"That is {len(body.rows):,} rows; one request takes up to {most:,}. Send more as a "
                           "file with POST /v1/batches.", "too_many_rows")
    given = rows_given(body, index)
    bot = context.answerer.bot
    scored: Scored = await context.answerer.pool.run(lambda: bot.predict_rows(
        name, [row for _, row in given], caller.sender, top_k, DRIVERS[include_drivers]))
    if isinstance(scored.reply.body, reply.Unanswered):
        raise refusal(scored.reply)
    results = []
    for (key, row), result in zip(given, scored.results, strict=True):
        out = row_prediction(result)
        if index is not None:
            out["index"] = key
        if include_source:
            out["source"] = row
        if include_not_predicted_reason:
            out["not_predicted_reason"] = result.reason
        results.append(out)
    if not any(result.ok for result in scored.results):
        raise Problem(422, f"No row could be predicted. {scored.results[0].reason}", "not_predicted",
                      [{"row": at, **error} for at, out in enumerate(results) for error in out["errors"]])
    answered = scored.reply
    return {"model": answered.model, "version": answered.version, "prediction_id": answered.prediction_id,
            "results": results}


@router.post("/ask", response_model=AskResponse, responses=problems(400, 401, 403, 413, 415, 429))
async def ask(body: AskRequest, caller: Caller, context: Served) -> dict[str, Any]:
    """Any chat command, answered as `predbot ask --json` answers it."""
    text = body.text
    if not text.strip():
        raise Problem(400, "`text` is empty: send a command as you would type it in chat, like "
                           f"`{parser.COMMANDS[0].example}`.", "empty_text")
    if len(text) > parser.MAX_COMMAND_CHARS:
        raise Problem(413, f"`text` is {len(text):,} characters long; a command takes up to "
                           f"{parser.MAX_COMMAND_CHARS:,}. Send many rows to POST /v1/models/{{name}}/predict.",
                      "too_long")
    if caller.key is not None and caller.key.models:
        bot = context.answerer.bot
        if about := await context.answerer.pool.run(lambda: bot.model_asked(text)):
            caller.check(about)
    return (await context.answerer.answer(text, caller.sender)).to_dict()


@router.get("/models", response_model=ModelList, responses=problems(401, 403, 429))
async def models(caller: Caller, context: Served) -> dict[str, Any]:
    """The models serving (those the key may use), with their live accuracy."""
    answered = await context.answerer.pool.run(context.answerer.bot.models)
    return {"models": [asdict(info) for info in answered.body.models if caller.may_use(info.name)]}


@router.get("/models/{name}", response_model=ModelDetail, responses=problems(401, 403, 404, 429, 503))
async def model(name: str, caller: Caller, context: Served) -> dict[str, Any]:
    """A model's fields, what each takes, and an example request."""
    caller.check(name)
    bot = context.answerer.bot
    return await context.answerer.pool.run(lambda: detail(bot, name))


@router.get("/predictions/{prediction_id}", response_model=Remembered, responses=problems(401, 403, 404, 429))
async def prediction(prediction_id: str, caller: Caller, context: Served) -> dict[str, Any]:
    """A prediction made with this key, as it was answered, with the feedback given since."""
    bot = context.answerer.bot
    answered = await context.answerer.pool.run(lambda: bot.show(prediction_id, caller.sender))
    kept = answered.body
    if not isinstance(kept, reply.Remembered):
        raise refusal(answered, prediction_id)
    return {"prediction_id": kept.prediction_id, "at": kept.at, "asked": kept.asked, "model": kept.model,
            "version": kept.version, "status": str(answered.status), "answer": asdict(kept.answer),
            "feedback": [asdict(outcome) for outcome in kept.outcomes]}


@router.get("/predictions/{prediction_id}/chart.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "The chart of the prediction's drivers."},
                       **problems(401, 403, 404, 429, 503)})
async def prediction_chart(prediction_id: str, caller: Caller, context: Served) -> Response:
    """A chart of a prediction made with this key, drawn from it as it was kept: a one-row prediction's drivers as
    a waterfall, or a what-if's move."""
    bot = context.answerer.bot

    def drawn() -> tuple[reply.Reply, Chart | None]:
        answered = bot.show(prediction_id, caller.sender)
        kept = answered.body
        if not isinstance(kept, reply.Remembered) or not draws(answered):
            return answered, None
        return answered, chart_of(reply.Reply(reply.Status.OK, kept.answer, kept.model, kept.version,
                                              kept.prediction_id))

    answered, chart = await context.answerer.pool.run(drawn)
    if not isinstance(answered.body, reply.Remembered):
        raise refusal(answered, prediction_id)
    if not draws(answered):
        raise Problem(404, f"Prediction {prediction_id!r} has no chart: charts are drawn of a prediction of one row "
                           "that was predicted, with its drivers, and of a what-if.", "no_chart")
    if chart is None:
        raise Problem(503, "The chart could not be drawn; the server's log has the details. The prediction itself "
                           f"is at GET /v1/predictions/{prediction_id}.", "could_not_draw")
    return Response(chart.png, media_type="image/png",
                    headers={"Content-Disposition": f'inline; filename="{chart.filename}"'})


@router.post("/predictions/{prediction_id}/feedback", response_model=Noted,
             responses=problems(400, 401, 403, 404, 413, 415, 429))
async def feedback(prediction_id: str, body: FeedbackRequest, caller: Caller, context: Served) -> dict[str, Any]:
    """What a row of a prediction really was: kept for the model version's live accuracy."""
    bot = context.answerer.bot
    answered = await context.answerer.pool.run(lambda: bot.feedback(prediction_id, body.row, body.actual,
                                                                    caller.sender))
    if not isinstance(answered.body, reply.Noted):
        raise refusal(answered, prediction_id)
    return asdict(answered.body)


def rows_given(body: PredictRequest, index: str | None) -> list[tuple[object, dict[str, object] | list[object]]]:
    """Each row with its `index` value (None without one), named by the body's `schema` where it gives one; a row
    that cannot be named, or has no index value, is a 400 that names it."""
    names = [column.name for column in body.columns] if body.columns is not None else None
    if names is not None and (twice := sorted({name for name in names if names.count(name) > 1})):
        raise Problem(400, f"`schema` names {', '.join(map(repr, twice))} more than once; name each column once.",
                      "duplicate_column", [{"field": "schema", "message": f"{name!r} is named more than once."}
                                           for name in twice])
    if index is not None and names is not None and index not in names:
        raise Problem(400, f"`index` is {index!r}, which `schema` does not name.", "unknown_index",
                      [{"field": "index", "message": f"`schema` has no column {index!r}."}])
    given, wrong = [], []
    for at, row in enumerate(body.rows):
        if isinstance(row, list) and names is not None:
            if len(row) != len(names):
                wrong.append({"row": at, "field": f"rows[{at}]", "message": f"Row {at} has {len(row)} values; "
                              f"`schema` names {len(names)} columns."})
                continue
            row = dict(zip(names, row, strict=True))
        if index is None:
            given.append((None, row))
        elif isinstance(row, dict) and index in row:
            given.append((row[index], {key: value for key, value in row.items() if key != index}))
        else:
            wrong.append({"row": at, "field": f"rows[{at}]", "message": f"Row {at} has no {index!r} column, which "
                          "`index` names." + ("" if isinstance(row, dict) else " Name a list row's values with "
                                              "`schema`.")})
    if wrong:
        raise Problem(400, f"{wrong[0]['message']} Each row must have as many values as `schema` names, and its "
                           "`index` column when one is named.", "invalid_rows", wrong)
    return given


def row_prediction(result: RowResult) -> dict[str, Any]:
    """One row's answer as the API gives it; `index`, `source` and the reason are the caller's to add."""
    predicted = result.prediction if result.ok else None
    return {"row": result.index, "prediction": predicted, "probabilities": dict(result.probabilities),
            "confidence": result.probabilities.get(predicted) if isinstance(predicted, str) else None,
            "drivers": [{"field": driver.feature, "value": driver.value, "contribution": driver.contribution,
                         "direction": driver.direction} for driver in result.drivers],
            "drivers_for": result.drivers_for or None, "base_value": result.base_value, "scale": result.scale,
            "warnings": [warning.message for warning in result.warnings],
            "errors": [{"field": field, "message": message} for field, message in field_errors(result.errors)]}


def detail(bot: Bot, name: str) -> dict[str, Any]:
    """GET /v1/models/{name}'s answer, worked out on a scoring thread (a model may load on first use)."""
    found = bot.model(name)
    if isinstance(found, reply.Reply):
        raise refusal(found)
    fields = [{"name": feature.name, "kind": str(feature.kind), "allowed": allowed_text(feature),
               "categories": list(feature.categories), "minimum": feature.low, "maximum": feature.high,
               "unit": feature.unit or "", "description": feature.description, "aliases": list(feature.aliases),
               "optional": feature.imputable} for feature in found.schema.features]
    return {"name": found.name, "version": found.version, "kind": found.kind, "target": found.target,
            "description": found.card.description, "default": found.name == bot.registry.default_name,
            "live": [asdict(version) for version in live(bot.store, found.name)], "top_k": found.card.top_k,
            "fields": fields, "example_request": {"rows": [found.typical_row()]}}


def refusal(answered: reply.Reply, prediction_id: str = "") -> Problem:
    """A refusal of the core's as a problem: 404 for what is not there, 503 for a model that cannot load, else 400.
    A prediction that is someone else's is not found, in the same words as one that is not there."""
    said = answered.body
    label, message = (said.label, said.message) if isinstance(said, reply.Unanswered) else ("refused", "Refused.")
    if label in ("unknown_id", "not_yours"):
        return Problem(404, f"There is no prediction {prediction_id!r} made with this API key.",
                       "unknown_prediction")
    status = 404 if label in NOT_FOUND else 503 if label == "model_unavailable" else 400
    return Problem(status, message, label)
