"""Literal text to Python values: the one reader of values, for commands and for CSV cells alike.

grammar.lark says what a value looks like and this module what it means. In a
command the grammar has already checked each token, so `number`, `money`,
`percent`, `boolean` and `string` only decode it. `read` takes a value that
stands alone, a CSV cell or any free text, and matches the grammar's own
value terminals against all of it, so a cell means what the same text means
in a command:

    45  -3  4.5  1e3  60k  1.2M  3bn     $80.00  -$5  €1,200     15% (read as 15)
    true false yes no on off y n         ?  na  n/a  null  none  missing

One rule for `1,200`: a comma between groups of three digits is a thousands
separator where it cannot separate values, that is in a CSV cell, which holds
one value (`60,000` is 60000), and after a currency sign (`$1,200` is 1200).
In a command the comma separates values, so `income=1,200` is an error whose
hint says to write `income=1200` or `income=1.2k`. The one exception is a file
that writes decimals with a comma (European spreadsheets, `;` between cells):
there `12,5` is 12.5 (scoring.csvfile finds out which a file uses).

Cells have two extras of their own: an empty cell and `nan` (what spreadsheets
and pandas write) are missing, and a yes/no field also takes `t`/`f` and `1`/`0`
(`truth`).
"""

from __future__ import annotations

import math
import re
from decimal import MAX_EMAX, Decimal, localcontext

from parser.grammar import terminal

MAGNITUDES = {"k": 10**3, "K": 10**3, "M": 10**6, "B": 10**9, "bn": 10**9}
WRITTEN_OUT = 10_000    # `written` gives smaller numbers without a magnitude
CURRENCIES = "$€£"
TRUE_WORDS = frozenset({"true", "yes", "y", "on"})      # the grammar's BOOL words that mean yes
CELL_MISSING = frozenset({"", "nan"})
CELL_TRUE, CELL_FALSE = frozenset({"t", "1"}), frozenset({"f", "0"})
CURLY_QUOTES = {"“": "”", "‘": "’"}
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "'": "'", "\\": "\\"}
ESCAPE = re.compile(r"\\(.)")
NEEDS_ESCAPE = re.compile(r'[\\"\n\t]')
SUFFIX = re.compile(r"(bn|[kKMB])$")
# 1,200 and 12,345,678.9, not part of a longer run of digits and commas (1,20 and 1234,567 are not grouped);
# a comma and a space after it separate it from the next value
THOUSANDS = re.compile(r"(?<![\d.])(?<!\d,)\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d|,\d)")


# the grammar's value terminals, so that cells and commands share one definition of each literal
NUMBER, MONEY, PERCENT, BOOL, MISSING = map(terminal, ("NUMBER", "MONEY", "PERCENT", "BOOL", "MISSING"))


def read(text: str) -> int | float | bool | str | None:
    """One value standing alone, as a command reads it: `60,000` -> 60000, `yes` -> True, `?` -> None.

    Text that is no number, yes/no or missing word is itself, without the
    spaces around it (`" Premium "` -> `"Premium"`).
    """
    cell = text.strip()
    if missing(cell):
        return None
    if BOOL.fullmatch(cell):
        return boolean(cell)
    amount = _amount(THOUSANDS.sub(_ungroup, cell, count=1) if "," in cell else cell)
    return cell if amount is None else amount


def missing(text: str) -> bool:
    """Is this cell or text a value not known: a missing word of the grammar, empty, or `nan`?"""
    cell = text.strip()
    return cell.lower() in CELL_MISSING or MISSING.fullmatch(cell) is not None


def _ungroup(grouped: re.Match[str]) -> str:
    return grouped.group().replace(",", "")


def _amount(cell: str) -> int | float | None:
    if NUMBER.fullmatch(cell):
        return number(cell)
    if MONEY.fullmatch(cell):
        return money(cell)[0]
    if PERCENT.fullmatch(cell):
        return percent(cell)
    return None


def truth(text: str) -> bool | None:
    """Yes or no as a yes/no field reads it: the grammar's words, and `t`/`f` or `1`/`0` as spreadsheets and
    databases write them; None for anything else."""
    word = text.strip()
    if BOOL.fullmatch(word):
        return boolean(word)
    word = word.lower()
    return True if word in CELL_TRUE else False if word in CELL_FALSE else None


def number(raw: str) -> int | float:
    """`45` -> 45, `4.5` -> 4.5, `1e3` -> 1000.0, `1.2M` -> 1200000.

    Whole numbers stay ints unless written with an exponent, and a magnitude
    suffix keeps a whole result whole. Numbers too long for an int are floats.
    """
    suffix = SUFFIX.search(raw)
    digits, scale = (raw[: suffix.start()], MAGNITUDES[suffix.group()]) if suffix else (raw, 1)
    if "e" in digits.lower() or ("." in digits and not suffix):
        return float(digits) * scale
    if not suffix:
        try:
            return int(digits)
        except ValueError:  # more digits than int() reads from text
            return float(digits)
    with localcontext(prec=len(digits) + 10, Emax=MAX_EMAX):
        amount = Decimal(digits) * scale
    if amount != amount.to_integral_value():
        return float(amount)
    try:
        return int(format(amount, "f").partition(".")[0])
    except ValueError:  # more digits than int() reads from text
        return float(amount)


def money(raw: str) -> tuple[int | float, str]:
    """`$80.00` -> (80.0, "$"); `-$5` and `$-5` -> (-5, "$"); `€1,200` -> (1200, "€")."""
    unit = next(c for c in raw if c in CURRENCIES)
    return number(raw.replace(unit, "", 1).replace(",", "")), unit


def percent(raw: str) -> int | float:
    return number(raw.removesuffix("%"))


def boolean(raw: str) -> bool:
    return raw.lower() in TRUE_WORDS


def with_magnitude(digits: str) -> str | None:
    """A plain number in the largest magnitude it reaches: `1200` -> `1.2k`, `3000000` -> `3M`; None below 1000."""
    amount = Decimal(digits)
    for suffix in ("B", "M", "k"):
        if abs(amount) >= MAGNITUDES[suffix]:
            with localcontext(prec=len(digits) + 1):
                return format((amount / MAGNITUDES[suffix]).normalize(), "f") + suffix
    return None


def written(number: int | float, significant: int = 4) -> str:
    """A number for people, in the language's own notation so that it reads back as (about) the same number:
    `45`, `4.5`, `0.05`, `60000` -> `60k`, `229800` -> `229.8k`, `1234567.8` -> `1.235M`, `1e9` -> `1B`.

    Whole numbers under 10,000 are written out (2024, not 2.024k); other numbers keep `significant` digits,
    and past 999B, or for the very small, e-notation (`1.5e+12`, `1.2e-07`). OverflowError for an int
    too large for a float.
    """
    amount = float(number)
    if not math.isfinite(amount) or (amount.is_integer() and abs(amount) < WRITTEN_OUT):
        return str(int(amount)) if math.isfinite(amount) else str(amount)
    rounded = float(f"{amount:.{significant}g}")
    if abs(rounded) < WRITTEN_OUT:
        return str(int(rounded)) if rounded.is_integer() else f"{rounded:.{significant}g}"
    suffix = next((s for s in ("B", "M", "k") if abs(rounded) >= MAGNITUDES[s]), "k")
    if abs(amount) >= 1000 * MAGNITUDES["B"]:       # the amount, not the rounded: 999.95B is 1000B, not 1e+12
        return f"{rounded:.{significant}g}"
    return f"{rounded / MAGNITUDES[suffix]:.{significant}g}{suffix}"


def string(raw: str) -> str:
    """The text inside quotes. Escapes other than \\" \\' \\\\ \\n \\t stay as typed (C:\\data),
    and “curly” quotes, which phones and chat apps put in for "straight" ones, have none."""
    if raw[0] in CURLY_QUOTES:
        return raw[1:-1]
    return ESCAPE.sub(lambda m: ESCAPES.get(m.group(1), m.group()), raw[1:-1])


def quote(text: str) -> str:
    """`string` backwards: text in double quotes that reads back as itself."""
    escaped = NEEDS_ESCAPE.sub(lambda m: "\\" + {"\n": "n", "\t": "t"}.get(m.group(), m.group()), text)
    return f'"{escaped}"'
