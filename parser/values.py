"""Literal text to Python values. The grammar has already checked the shape."""

from __future__ import annotations

import re
from decimal import MAX_EMAX, Decimal, localcontext

MAGNITUDES = {"k": 10**3, "K": 10**3, "M": 10**6, "B": 10**9, "bn": 10**9}
CURRENCIES = "$€£"
TRUE_WORDS = frozenset({"true", "yes", "y", "on"})
CURLY_QUOTES = {"“": "”", "‘": "’"}
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "'": "'", "\\": "\\"}
ESCAPE = re.compile(r"\\(.)")
NEEDS_ESCAPE = re.compile(r'[\\"\n\t]')
SUFFIX = re.compile(r"(bn|[kKMB])$")


def number(raw: str) -> int | float:
    """`45` -> 45, `4.5` -> 4.5, `1e3` -> 1000.0, `1.2M` -> 1200000.

    Whole numbers stay ints unless written with an exponent, and a magnitude
    suffix keeps a whole result whole. Numbers too long for an int are floats.
    """
    suffix = SUFFIX.search(raw)
    digits, scale = (raw[: suffix.start()], MAGNITUDES[suffix.group()]) if suffix else (raw, 1)
    if "e" in digits.lower() or ("." in digits and not suffix):
        return float(digits) * scale
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
