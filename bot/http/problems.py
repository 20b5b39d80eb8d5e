"""Every error the HTTP API gives is one shape: RFC 9457 problem details (application/problem+json).

A route raises `Problem`; the handlers installed here turn it, FastAPI's
request validation and anything unexpected into that shape. `type` stays
`about:blank`, so `title` is the status's own phrase; `detail` says what was
wrong and what to do, and `code` names the kind of problem for programs.
Per-field messages go in `errors`, each `{"field", "message"}` (and `"row"`,
counting from 0, for a row of a request). No traceback, path or pydantic
internals ever reach a response: the log has them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """An error answer: raise it in a route, and the client gets it as problem+json."""

    def __init__(self, status: int, detail: str, code: str, errors: Sequence[Mapping[str, Any]] = (),
                 headers: Mapping[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code
        self.errors, self.headers, self.extra = list(errors), dict(headers or {}), extra

    def response(self) -> JSONResponse:
        body = {"type": "about:blank", "title": HTTPStatus(self.status).phrase, "status": self.status,
                "detail": self.detail, "code": self.code, **self.extra}
        if self.errors:
            body["errors"] = self.errors
        return JSONResponse(body, status_code=self.status, headers=self.headers, media_type=MEDIA_TYPE)


def install(app: FastAPI) -> None:
    """Answer every error of `app` as problem+json."""

    @app.exception_handler(Problem)
    async def problem(_: Request, error: Problem) -> JSONResponse:
        return error.response()

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return invalid_request(error.errors()).response()

    @app.exception_handler(HTTPException)
    async def http(_: Request, error: HTTPException) -> JSONResponse:
        return Problem(error.status_code, str(error.detail), HTTPStatus(error.status_code).name.lower(),
                       headers=error.headers).response()

    @app.exception_handler(Exception)
    async def unexpected(request: Request, _: Exception) -> JSONResponse:
        log.exception("unexpected failure answering %s %s", request.method, request.url.path)
        return Problem(500, "Something went wrong on our side; the server's log has the details.",
                       "internal").response()


def invalid_request(errors: Sequence[Mapping[str, Any]]) -> Problem:
    """FastAPI's validation errors in words: where in the request, and what it expected."""
    found = [{"field": where(error.get("loc", ())), "message": said(error)} for error in errors]
    first = found[0] if found else {"field": "body", "message": "not what this endpoint takes"}
    return Problem(400, f"The request is not what this endpoint takes: {first['field']}: {first['message']}.",
                   "invalid_request", found)


def where(location: Sequence[Any]) -> str:
    """('body', 'rows', 0, 'age') -> 'body.rows[0].age'."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "request"


def said(error: Mapping[str, Any]) -> str:
    """Pydantic's message, without the input it echoes or the links to its docs."""
    return str(error.get("msg", "not valid")).removeprefix("Value error, ")
