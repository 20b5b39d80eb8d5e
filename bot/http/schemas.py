"""The /v1 API's requests and answers as pydantic models, so that /openapi.json documents every field.

Values in rows are what JSON has for one value (text, a number, true/false,
null) and reach the model's schema as they are, to be read as chat reads what
is typed; a list or object there is refused with one plain sentence, checked
here rather than by a union of types, whose errors would name each type tried.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

SCALAR_SCHEMA = {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]}
ONE_VALUE = "a string, a number, true, false or null"


def scalar(value: object, where: str = "a value") -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"{where} must be {ONE_VALUE}, not {'a list' if isinstance(value, list) else 'an object'}")


def row_of_values(row: object) -> dict[str, object] | list[object]:
    """A row: an object of field: value, or a list of values (named by `schema`, else in the model's field order)."""
    if isinstance(row, dict):
        return {key: scalar(value, f"the value of {key!r}") for key, value in row.items()}
    if isinstance(row, list):
        return [scalar(value, f"value {at}") for at, value in enumerate(row)]
    raise ValueError("a row must be an object of field: value, or a list of values")


Scalar = Annotated[Any, PlainValidator(scalar), WithJsonSchema(SCALAR_SCHEMA)]
RowGiven = Annotated[dict[str, Any] | list[Any], PlainValidator(row_of_values), WithJsonSchema(
    {"anyOf": [{"type": "object", "additionalProperties": SCALAR_SCHEMA}, {"type": "array", "items": SCALAR_SCHEMA}]})]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Column(Strict):
    name: str = Field(min_length=1, description="The column's name: a field of the model, or the `index` column.")
    type: str | None = Field(None, description="What the column holds, for people; values are read by the model's "
                                               "own schema whatever it says.")


class PredictRequest(Strict):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"rows": [{"age": 45, "income": 60000}]}]})

    columns: list[Column] | None = Field(None, alias="schema", description="Names the values of each list row, in "
                                         "order; without it a list row is in the model's field order.")
    rows: list[RowGiven] = Field(min_length=1, description="Each an object of field: value (keys as chat reads "
                                 "them: any case, aliases), or a list of values. Numbers may be text such as \"60k\".")


class FieldError(BaseModel):
    field: str | None = Field(description="The field as the row named it; null for the whole row.")
    message: str


class Driver(BaseModel):
    field: str
    value: Scalar = Field(description="The field's value as given (as the model filled it in, when not given).")
    contribution: float = Field(description="How far it moved the explained output, on `scale`.")
    direction: Literal["up", "down", "none"]


class RowPrediction(BaseModel):
    row: int = Field(description="The row's place in the request's `rows`, counted from 0.")
    index: Scalar = Field(None, description="The row's value in the `index` column, when one is named.")
    prediction: str | float | None = Field(description="The class, or the predicted value; null if not predicted.")
    probabilities: dict[str, float] = Field(description="Classifiers: each class's probability.")
    confidence: float | None = Field(description="Classifiers: the probability of the predicted class.")
    drivers: list[Driver]
    drivers_for: str | None = Field(description="Classifiers: the class whose output the drivers explain.")
    base_value: float | None = Field(description="With every field's contribution (include_drivers=all), adds up "
                                                 "to the explained output.")
    scale: str = Field(description="What contributions measure: probability, log-odds or the target's units.")
    warnings: list[str]
    source: dict[str, Scalar] | list[Scalar] | None = Field(None, description="The row as given, without its "
                                                           "`index` value (include_source=true).")
    not_predicted_reason: str | None = Field(None, description="Why the row was not predicted, in words "
                                                                "(unless include_not_predicted_reason=false).")
    errors: list[FieldError] = Field(description="Why the row was not predicted, field by field.")


class PredictResponse(BaseModel):
    model: str
    version: str
    prediction_id: str = Field(description="GET /v1/predictions/{id} shows it again; feedback names it.")
    results: list[RowPrediction]


class AskRequest(Strict):
    text: str = Field(description="A command as typed in chat, e.g. `predict: age=45, income=60000`.")


class AskResponse(BaseModel):
    """What `predbot ask --json` prints: the reply, whose `body.type` names the kind of answer."""

    status: str
    body: dict[str, Any]
    model: str | None
    version: str | None
    prediction_id: str | None
    files: list[dict[str, Any]]


class LiveAccuracy(BaseModel):
    version: str
    count: int = Field(description="Predictions of this version with feedback.")
    accuracy: float | None = Field(description="Classifiers: the share of them that were right.")
    mean_absolute_error: float | None = Field(description="Regressors.")


class ModelSummary(BaseModel):
    name: str
    version: str
    kind: str
    target: str
    description: str
    default: bool
    live: list[LiveAccuracy] = Field(description="Live accuracy per version, newest first.")


class ModelList(BaseModel):
    models: list[ModelSummary]


class ModelField(BaseModel):
    name: str
    kind: Literal["numeric", "integer", "boolean", "categorical"]
    allowed: str = Field(description="In words: a range, the categories, or yes or no.")
    categories: list[str]
    minimum: float | None
    maximum: float | None
    unit: str
    description: str
    aliases: list[str]
    optional: bool = Field(description="The model fills it in when it is not given.")


class ModelDetail(ModelSummary):
    top_k: int = Field(description="Drivers given per row unless `top_k` asks for another number.")
    fields: list[ModelField]
    example_request: dict[str, Any] = Field(description="A body POST /v1/models/{name}/predict takes.")


class Remembered(BaseModel):
    prediction_id: str
    at: str = Field(description="When it was asked: ISO 8601, UTC.")
    asked: str = Field(description="The request, written as a chat command.")
    model: str
    version: str
    status: str
    answer: dict[str, Any] = Field(description="The answer as it was given: its rows, predictions and drivers.")
    feedback: list[dict[str, Any]] = Field(description="What each row really was, by the latest feedback.")


class FeedbackRequest(Strict):
    row: int = Field(1, ge=1, description="Which row, counted from 1 as chat counts them (a result's `row` + 1).")
    actual: Scalar = Field(description="What it really was: a class of the model, or a number for a regressor.")


class Noted(BaseModel):
    prediction_id: str
    row: int
    rows: int
    actual: str
    predicted: str
    right: bool | None = Field(description="Classifiers: whether the prediction was right.")
    off_by: float | None = Field(description="Regressors: actual - predicted.")
    live: LiveAccuracy | None = Field(description="The model version's live accuracy, this feedback included.")


PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What was wrong and what to do."},
        "code": {"type": "string", "description": "The kind of problem, for programs."},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": ["string", "null"]}, "message": {"type": "string"},
                           "row": {"type": "integer", "description": "Counted from 0."}}}},
    },
}
WHY = {400: "The request is not what this endpoint takes; `errors` says where.", 401: "No valid API key was sent.",
       403: "The key may not use this model, or, without keys, the client is not on the server's machine.",
       404: "Not found; `detail` says what.", 413: "The request is too large.",
       415: "The body is not sent as a type this endpoint takes.",
       422: "Nothing could be predicted; `errors` says why, row by row.",
       429: "Too many requests with this key; Retry-After says when to try again.",
       503: "The model cannot be loaded right now."}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem+json answers a route documents, for FastAPI's `responses=`."""
    return {status: {"description": WHY.get(status, HTTPStatus(status).phrase),
                     "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}} for status in statuses}
