"""Error responses: every bad request is a 4xx whose message names what is wrong."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _describe(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("query", "body", "path", "header")]
    where = ".".join(loc) or "request"
    message = str(error.get("msg", "invalid value"))
    ctx = error.get("ctx") or {}
    if "expected" in ctx:
        message = f"must be one of {ctx['expected']}"
    got = error.get("input")
    suffix = f" (got {got!r})" if got is not None and not isinstance(got, dict) else ""
    return f"{where}: {message}{suffix}"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return JSONResponse(
            status_code=422,
            content={
                "detail": "; ".join(_describe(e) for e in errors),
                "errors": [
                    {
                        "parameter": ".".join(str(p) for p in e.get("loc", ())[1:]),
                        "message": e["msg"],
                    }
                    for e in errors
                ],
            },
        )
