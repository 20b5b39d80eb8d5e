"""Pairs written the way people say them, `predict churn for age 45 and income 60k`, read back as the
key=value command they mean, so that the error can show it instead of counting six values.

Only a row that starts with a filler word (or follows one: `predict for age 45` reads `for` as the model)
and then goes `key value`, `key value`, ... with filler words only before keys and at least one number
among the values counts: `predict iris: 5.1, 3.5, 1.4, 0.2` and a sentence such as `for real?` do not.
"""

from __future__ import annotations

from parser.commands import Pair, Predict, Row, Value

FILLERS = frozenset({"for", "and", "with"})


def as_pairs(command: Predict) -> Predict | None:
    """The command with its spoken rows as key=value pairs, or None when no row reads that way."""
    model_is_filler = command.model is not None and command.model.lower() in FILLERS
    spoken = [_pairs(row, model_is_filler and number == 0) for number, row in enumerate(command.rows)]
    if not any(spoken):
        return None
    return Predict(None if model_is_filler else command.model,
                   tuple(pairs or row for pairs, row in zip(spoken, command.rows, strict=True)))


def starts_at(command: Predict) -> int:
    """Where the first spoken row starts, with the filler word before it: the place to point at."""
    if command.model is not None and command.model.lower() in FILLERS and command.model_span is not None:
        return command.model_span.start
    return next(row.span.start for row in command.rows if _pairs(row, False))


def _pairs(row: Row, after_filler: bool) -> Row | None:
    items = row.items
    if not items or isinstance(items[0], Pair) or not (after_filler or _filler(items[0])):
        return None
    pairs: list[Pair] = []
    key: Value | None = None
    for item in items:
        if key is None and _filler(item):
            continue
        if key is None and item.kind == "word":
            key = item
        elif key is not None and not _filler(item):
            pairs.append(Pair(key.raw, item, key_span=key.span))
            key = None
        else:
            return None
    if key is not None or not pairs or all(pair.value.kind != "number" for pair in pairs):
        return None
    return Row(tuple(pairs), span=row.span)


def _filler(item: Value) -> bool:
    return item.kind == "word" and item.raw.lower() in FILLERS
