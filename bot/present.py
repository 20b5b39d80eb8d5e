"""Turn scoring results into the plain data of a Reply: values and drivers as people read them."""

from __future__ import annotations

from collections.abc import Mapping

from bot import reply
from parser import literal
from parser.format import key_text
from scoring.compare import Comparison
from scoring.model import Model
from scoring.problems import (DuplicateFeature, MissingValue, MissingValues, Problem, TooLarge, UnknownCategory,
                              UnknownFeature, WrongType, number_text, shorten, typed)
from scoring.schema import Feature, Kind
from scoring.score import Driver, RowResult

VALUE_CHARS = 100       # longer than any category or example value, short enough to never be a wall of text


def value_text(value: object) -> str:
    """A value the way the command language writes it back (numbers as people read them: 60k, 1.235M); one a
    person made very long is cut."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_text(value)
    if not isinstance(value, str):
        return shorten(typed(value), VALUE_CHARS)
    return literal(shorten(value, VALUE_CHARS))     # `yes` and `na` in quotes, as bare they are not words


def inputs_text(row: Mapping[str, object]) -> str:
    """A row as the model was given it, exactly and with keys quoted where they must be, so that it reads back as
    itself: a follow-up in a conversation builds on it (`value_text` rounds numbers for people)."""
    return ", ".join(f"{key_text(k)}={exact_text(v)}" for k, v in row.items())


def exact_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)                  # the shortest text that reads back as this float: 20000.5, 1e-07
    return "?" if value is None else literal(shorten(str(value), VALUE_CHARS))


def row_reply(model: Model, result: RowResult, inputs: str) -> reply.Row:
    if not result.ok:
        return reply.Row(inputs=inputs, reason=result.reason,
                         warnings=tuple(w.message for w in result.warnings))
    common = dict(drivers=tuple(factor(d) for d in result.drivers), drivers_for=result.drivers_for,
                  base_value=result.base_value, output=result.output,
                  warnings=tuple(w.message for w in result.warnings))
    if model.is_classifier:
        return reply.Row(inputs=inputs, prediction=str(result.prediction),
                         confidence=result.probabilities[result.prediction],
                         probabilities=dict(result.probabilities), **common)
    value = float(result.prediction)
    return reply.Row(inputs=inputs, prediction=f"{value:,.0f}" if 1e4 <= abs(value) < 1e15 else f"{value:,.4g}",
                     value=value, **common)


def factor(driver: Driver) -> reply.Factor:
    return reply.Factor(driver.feature, value_text(driver.value), driver.contribution, driver.direction)


def whatif_body(model: Model, comparison: Comparison) -> reply.WhatIf:
    """Both answers; what changed, how much the answer moved and why, only when both were predicted."""
    before, after = (row_reply(model, r, inputs_text(r.inputs)) for r in (comparison.before, comparison.after))
    if not comparison.ok:
        return reply.WhatIf(before, after, (), (), comparison.before.scale)
    changes = tuple(reply.Change(c.feature, value_text(c.before), value_text(c.after)) for c in comparison.changes)
    return reply.WhatIf(before, after, changes, tuple(factor(d) for d in comparison.moved),
                        comparison.before.scale, comparison.about, comparison.others, comparison.total)


def allowed_text(feature: Feature) -> str:
    if feature.kind is Kind.BOOLEAN:
        return "yes or no"
    if feature.kind is Kind.CATEGORICAL:
        return ", ".join(feature.categories) if feature.categories else "any text"
    if feature.low is not None and feature.high is not None:
        return f"{value_text(feature.low)} to {value_text(feature.high)}"
    return "any number" if feature.kind is Kind.NUMERIC else "any whole number"


def field_reply(feature: Feature) -> reply.Field:
    return reply.Field(name=feature.name, kind=str(feature.kind), allowed=allowed_text(feature),
                       unit=feature.unit or "", description=feature.description,
                       aliases=feature.aliases, optional=feature.imputable)


def example_command(model: Model, default: bool) -> str:
    prefix = "predict:" if default else f"predict {model.name}:"
    return f"{prefix} {inputs_text(model.typical_row())}"


def field_errors(problems: tuple[Problem, ...]) -> list[tuple[str | None, str]]:
    """Why a row was not predicted, field by field, for programs: (field, message), the field as the row named it
    where it is unknown; several required fields left out are one message each; None for the whole row (its count
    of values, the model failing)."""
    found: list[tuple[str | None, str]] = []
    for problem in problems:
        match problem:
            case MissingValues(features=names):
                found += [(name, MissingValue(name).message) for name in names]
            case (UnknownFeature(name=name) | DuplicateFeature(feature=name) | WrongType(feature=name)
                  | TooLarge(feature=name) | UnknownCategory(feature=name) | MissingValue(feature=name)):
                found.append((name, problem.message))
            case _:
                found.append((None, problem.message))
    return found
