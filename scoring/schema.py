"""A model's input fields, and turning what people type into values it accepts.

Values arrive as a person types them (`"60k"`, `"$80"`, `"yes"`, `"?"`) or
already typed (`60000`, `True`, `None`). Coercion either yields a complete row
in the model's feature order, with warnings, or the list of problems that
stop the row; it never raises. `Schema.coerce_many` does for a chunk of a
file what `coerce` does for each of its rows, a column at a time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import numpy as np
import pandas as pd

from parser import values as literals
from scoring.problems import (DuplicateFeature, Imputed, MissingValue, MissingValues, OutOfRange, Problem, TooLarge,
                              UnknownCategory, UnknownFeature, WrongCount, WrongType, typed)

# The largest number a model is given. scikit-learn's trees compute in float32, where anything
# larger is infinity and the model refuses the row, so a larger value is refused here with its field.
LARGEST = float(np.finfo(np.float32).max)
# Digits with an optional minus and decimals: most cells of a number column, read here without the full reader
# (parser.values) to the same float. As that reader does, a whole number is read as an int first (`-0` is 0.0, not
# -0.0); at 15 digits at most it is well within a float's range.
PLAIN_NUMBER = re.compile(r"-?(?:[0-9]+\.[0-9]+|[0-9]{1,15})")


class Kind(StrEnum):
    NUMERIC = "numeric"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CATEGORICAL = "categorical"


EXPECTED = {Kind.NUMERIC: "a number", Kind.INTEGER: "a whole number",
            Kind.BOOLEAN: "yes or no", Kind.CATEGORICAL: "one of its categories"}


def normalise_key(key: str) -> str:
    """`Plan Type`, `plan_type`, `planType` and `plan-type` all become `plantype`."""
    return re.sub(r"[\s_\-]+", "", key).lower()


def without_unit(header: str) -> str:
    """`sepal length (cm)` -> `sepal length`: a CSV header without the unit in brackets at its end, as
    sklearn's own data sets and many spreadsheets write them; any other header as it is."""
    text = header.rstrip()
    opening = {")": "(", "]": "["}.get(text[-1:])
    start = text.rfind(opening) if opening else -1
    return text[:start].rstrip() if start > 0 else header


def to_number(value: object) -> float | None:
    """A typed value or text as a float; ±infinity for an integer too large for one; None if no number.

    Text reads as the command language reads a value (parser.values), so a cell's `60,000`, `$80.00`,
    `60k` and `15%` are numbers and its `yes` is not.
    """
    if isinstance(value, (bool, float)):
        return float(value)
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:  # 309 digits or more
            return math.inf if value > 0 else -math.inf
    if (plain := plain_number(value)) is not None:
        return plain
    read = literals.read(str(value))
    return None if read is None or isinstance(read, (bool, str)) else to_number(read)


def plain_number(value: object) -> float | None:
    """Text of plain digits (`45`, `-3`, `4.5`) as `to_number` reads it, cheaply; None for anything else."""
    if type(value) is not str or not PLAIN_NUMBER.fullmatch(value):
        return None
    return float(value) if "." in value else float(int(value))


def is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and literals.missing(value)


@dataclass(frozen=True)
class Feature:
    name: str
    kind: Kind
    description: str = ""
    unit: str | None = None
    aliases: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    categories: tuple[str, ...] = ()
    imputable: bool = False

    def coerce(self, value: object) -> object | Problem:
        """The value the model takes for this feature, or why it cannot take it."""
        if self.kind in NUMBERS and (plain := plain_number(value)) is not None:     # never missing, always a number
            return self._within(plain, value)
        if is_missing(value):
            return None if self.imputable else MissingValue(self.name)
        match self.kind:
            case Kind.BOOLEAN:
                return self._boolean(value)
            case Kind.CATEGORICAL:
                return self._category(value)
            case _:
                return self._number(value)

    def outcome(self, value: object) -> Outcome:
        """What `coerce` makes of `value`, taken apart: the value, or the problem, and its range warning."""
        coerced = self.coerce(value)
        if type(coerced) not in PLAIN_VALUES and isinstance(coerced, Problem):     # Problem's isinstance is slow
            return None, coerced, None
        return coerced, None, self.range_warning(coerced)

    def outcomes(self, values: Sequence[object]) -> list[Outcome]:
        """`outcome` of each value of a column. Each distinct text is read once, and the cells that hold it share
        its outcome: values and problems are immutable."""
        read: dict[str, Outcome] = {}
        outcomes = []
        for value in values:
            if type(value) is str:
                if (known := read.get(value)) is None:
                    known = read[value] = self.outcome(value)
                outcomes.append(known)
            else:
                outcomes.append(self.outcome(value))
        return outcomes

    def value_or_none(self, value: object) -> object:
        """The coerced value, or None where it cannot be used (for samples, not for people)."""
        coerced = self.coerce(value)
        return None if isinstance(coerced, Problem) else coerced

    def default(self) -> object:
        """A plain stand-in value: the first category, no, or the lowest value seen."""
        if self.kind is Kind.CATEGORICAL:
            return self.categories[0] if self.categories else ""
        if self.kind is Kind.BOOLEAN:
            return False
        return self.low if self.low is not None else 0

    def range_warning(self, value: object) -> OutOfRange | None:
        if value is None or self.kind not in (Kind.NUMERIC, Kind.INTEGER):
            return None
        if self.low is not None and self.high is not None and not self.low <= value <= self.high:
            return OutOfRange(self.name, to_number(value), self.low, self.high)
        return None

    def _boolean(self, value: object) -> bool | Problem:
        if isinstance(value, bool):
            return value
        number = to_number(value)
        if number in (0.0, 1.0):
            return bool(number)
        said = literals.truth(typed(value))
        return WrongType(self.name, EXPECTED[self.kind], value) if said is None else said

    def _category(self, value: object) -> str | Problem:
        if isinstance(value, bool) and self.categories:
            # the parser reads `yes` as True, so look for the one category that says yes (or no)
            said = [c for c in self.categories if literals.truth(c) is value]
            return said[0] if len(said) == 1 else UnknownCategory(self.name, value, self.categories)
        text = typed(value).strip()         # 3.0 read from a number is the category "3"
        if not self.categories:
            return text
        if (fold := text.casefold()) in self._by_fold:
            return self._by_fold[fold]
        if (key := normalise_key(text)) in self._by_category_key:
            return self._by_category_key[key]
        return UnknownCategory(self.name, value, self.categories)

    @cached_property
    def _by_fold(self) -> dict[str, str]:
        return {c.casefold(): c for c in self.categories}

    @cached_property
    def _by_category_key(self) -> dict[str, str]:
        return {normalise_key(c): c for c in self.categories}

    def _number(self, value: object) -> float | int | Problem:
        number = to_number(value)
        if number is None:
            return WrongType(self.name, EXPECTED[self.kind], value)
        return self._within(number, value)

    def _within(self, number: float, value: object) -> float | int | Problem:
        """`number`, read from `value`, as this feature takes it: whole if it must be, and within LARGEST."""
        if not abs(number) <= LARGEST:
            return TooLarge(self.name, LARGEST)
        if self.kind is Kind.INTEGER:
            if not number.is_integer():
                return WrongType(self.name, EXPECTED[self.kind], value)
            return int(number)
        return number


NUMBERS = (Kind.NUMERIC, Kind.INTEGER)
PLAIN_VALUES = frozenset({float, int, bool, str, type(None)})     # what a coerced value's type can be; no Problem
Outcome = tuple[object, Problem | None, Problem | None]             # value, problem, range warning (Feature.outcome)


@dataclass(frozen=True)
class CoercedRow:
    values: dict[str, object]
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Keys:
    """What a row's keys say, whatever its values: the problems with them, and the key each feature's value is
    under (None for a feature not given)."""

    problems: tuple[Problem, ...]
    sources: tuple[str | None, ...]


@dataclass(frozen=True)
class Schema:
    features: tuple[Feature, ...]
    _by_key: dict[str, Feature] = field(init=False, repr=False, compare=False)
    _exact: dict[str, Feature] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[str, Feature] = {}
        for feature in self.features:
            for key in (*feature.aliases, feature.name):
                by_key[normalise_key(key)] = feature
        object.__setattr__(self, "_by_key", by_key)
        # each name and alias as written, to what it normalises to: rows keyed by the fields' names skip the regex
        object.__setattr__(self, "_exact", {key: by_key[normalise_key(key)] for feature in self.features
                                            for key in (*feature.aliases, feature.name)})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def feature(self, key: str) -> Feature | UnknownFeature:
        """The feature a person means by `key`: name or alias, any case or spacing."""
        found = self._exact.get(key) or self._by_key.get(normalise_key(key))
        return found if found else UnknownFeature(key, self.names)

    def column(self, header: str) -> Feature | UnknownFeature:
        """The feature a CSV column's header names: as a key names one, or without a unit in brackets at its end
        (`sepal length (cm)`). Only headers drop units: in a command a key has no brackets."""
        found = self.feature(header)
        bare = without_unit(header)
        if isinstance(found, UnknownFeature) and bare != header:
            unitless = self.feature(bare)
            return found if isinstance(unitless, UnknownFeature) else unitless
        return found

    def name_positional(self, values: Sequence[object]) -> dict[str, object] | WrongCount:
        """Positional values in schema order, as a named row."""
        if len(values) != len(self.features):
            return WrongCount(len(self.features), len(values), self.names)
        return dict(zip(self.names, values, strict=True))

    def coerce(self, row: Mapping[str, object]) -> CoercedRow | list[Problem]:
        """A complete row in feature order with warnings, or every problem found."""
        layout = self.keys_of(tuple(row))
        return self._assemble(layout.problems, [feature.outcome(None if key is None else row[key])
                                                for feature, key in zip(self.features, layout.sources, strict=True)])

    def coerce_many(self, rows: Sequence[Mapping[str, object]]) -> list[CoercedRow | list[Problem]]:
        """What `coerce` makes of each row, worked out a column at a time for a chunk of a file: rows with the same
        keys share the work on them, and each feature reads each distinct text once."""
        seen: dict[tuple[str, ...], Keys] = {}
        layouts = []
        for row in rows:
            if (layout := seen.get(named := tuple(row))) is None:
                layout = seen[named] = self.keys_of(named)
            layouts.append(layout)
        columns = [feature.outcomes([None if (key := layout.sources[j]) is None else row[key]
                                     for row, layout in zip(rows, layouts, strict=True)])
                   for j, feature in enumerate(self.features)]
        return [self._assemble(layout.problems, cells)
                for layout, cells in zip(layouts, zip(*columns, strict=True), strict=True)]

    def keys_of(self, named: tuple[str, ...]) -> Keys:
        """What a row's keys, in order, say: unknown ones and features given twice are problems; a feature's
        value is under the first key that names it."""
        problems: list[Problem] = []
        given: dict[str, str] = {}
        for key in named:
            feature = self.feature(key)
            if not isinstance(feature, Feature):        # UnknownFeature; a Problem's isinstance is slow
                problems.append(feature)
            elif feature.name in given:
                problems.append(DuplicateFeature(feature.name))
            else:
                given[feature.name] = key
        return Keys(tuple(problems), tuple(given.get(feature.name) for feature in self.features))

    def _assemble(self, about_keys: Sequence[Problem], cells: Iterable[Outcome]) -> CoercedRow | list[Problem]:
        """A row from its key problems and each feature's outcome, in feature order."""
        problems = list(about_keys)
        values: dict[str, object] = {}
        warnings: list[Problem] = []
        imputed: list[str] = []
        missing: list[MissingValue] = []
        for feature, (value, problem, warning) in zip(self.features, cells, strict=True):
            if type(problem) is MissingValue:
                missing.append(problem)
                continue
            if problem is not None:
                problems.append(problem)
                continue
            values[feature.name] = value
            if value is None:
                imputed.append(feature.name)
            elif warning is not None:
                warnings.append(warning)
        if imputed:
            warnings.insert(0, Imputed(tuple(imputed)))
        if missing:     # one sentence for every required field left out, after the problems with keys
            grouped = missing[0] if len(missing) == 1 else MissingValues(tuple(m.feature for m in missing))
            problems.insert(len(about_keys), grouped)
        return problems if problems else CoercedRow(values, tuple(warnings))


FRAME_DTYPES = {Kind.NUMERIC: "float64", Kind.INTEGER: "float64",
                Kind.BOOLEAN: "float64", Kind.CATEGORICAL: "object"}


def to_frame(schema: Schema, rows: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Coerced rows as the model takes them: feature order, NaN for missing.

    Numbers, whole numbers and booleans go in as floats so that a missing value
    is a plain NaN that imputers and tree models understand. Coercion keeps
    numbers within LARGEST; anything larger that is passed in directly becomes
    infinity, which the model refuses for that row, rather than an overflow.
    """
    columns = {}
    for feature in schema.features:
        cells = [row.get(feature.name) for row in rows]
        if feature.kind is Kind.CATEGORICAL:
            columns[feature.name] = pd.Series([np.nan if c is None else c for c in cells], dtype=object)
        else:
            numbers = [c if type(c) is float else np.nan if c is None else to_number(c) for c in cells]
            columns[feature.name] = pd.Series(numbers, dtype=FRAME_DTYPES[feature.kind])
    return pd.DataFrame(columns)
