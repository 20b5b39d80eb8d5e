"""Request bodies the routes read themselves, before FastAPI does: bounded in size and taken as strict JSON.

A body is read only up to a limit, whatever Content-Length says or does not
say (a chunked body has none): past it, a 413, reading no further. Strict
JSON refuses NaN and Infinity, keeps a number too large for a float as the
text it was written as (so the model's schema refuses it in chat's words
instead of the answer failing to encode), and refuses text that is not
Unicode. The /v1 API, the batches' JSON bodies and Slack's events all read
their bodies here.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from fastapi import Request

from bot.http.problems import Problem

SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")     # a JSON escape of half a surrogate pair
MAX_DIGITS = 4000          # Python reads no longer whole number from text (sys.get_int_max_str_digits: 4300)


async def within(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as Content-Length or the bytes read so far pass `limit`."""
    body = await at_most(request, limit)
    if body is None:
        raise too_large(limit)
    return body


async def at_most(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as Content-Length or the bytes read so far pass `limit` (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or media.startswith("application/") and media.endswith("+json")


def too_large(limit: int) -> Problem:
    return Problem(413, f"The body is larger than the {limit:,} bytes a request may send. Send fewer rows at a "
                        "time, or many as a file with POST /v1/batches.", "body_too_large")


def strict_json(body: bytes) -> Any:
    """`body` as JSON, with NaN and Infinity refused, numbers too large for a float kept as their text, and text
    that is not Unicode (a lone UTF-16 surrogate escaped, `\\ud800`) refused: no answer could echo it."""
    try:
        parsed = json.loads(body, parse_constant=not_json, parse_float=finite_or_text, parse_int=whole)
        if SURROGATE.search(body):      # rare: only then is all the text checked
            json.dumps(parsed, ensure_ascii=False).encode()
        return parsed
    except UnicodeEncodeError:
        raise Problem(400, "The body escapes half of a UTF-16 surrogate pair (like \\ud800) alone, which is not "
                           "text; send the character itself, or both halves.", "malformed_json") from None
    except UnicodeDecodeError:
        raise Problem(400, "The body is not UTF-8 text, so not JSON.", "malformed_json") from None
    except json.JSONDecodeError as error:
        raise Problem(400, f"The body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.",
                      "malformed_json") from None
    except RecursionError:
        raise Problem(400, "The body is not JSON a server can read: it is nested too deeply.",
                      "malformed_json") from None
    except ValueError as error:       # not_json's and whole's
        raise Problem(400, f"The body is not valid JSON: {error}.", "malformed_json") from None


def not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON value; send a number, or null")


def finite_or_text(number: str) -> float | str:
    value = float(number)
    return value if math.isfinite(value) else number


def whole(digits: str) -> int:
    if len(digits) > MAX_DIGITS:
        raise ValueError(f"a number has {len(digits):,} digits, more than the {MAX_DIGITS:,} a value may have")
    return int(digits)
