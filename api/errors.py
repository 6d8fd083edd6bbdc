"""Error responses: every bad request is a 4xx whose message names what is wrong.

Three guards apply to every route, so a route added later is covered too:

* a query or path value holding a NUL or another control character is a 422
  naming the parameter, before any route code or database sees it;
* a validation error is a 422 with ``detail`` (one readable string) and
  ``errors`` (one item per parameter), and the OpenAPI document publishes that
  shape instead of FastAPI's default;
* every operation documents its 4xx answers and, where it has a ``format``
  parameter, its CSV (and Atom) bodies, so the published schema matches what
  the API sends.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What is wrong, naming the parameter"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["parameter", "message"],
                "properties": {
                    "parameter": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


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


def error_body(detail: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = errors
    return body


def _control_character(request: Request) -> str | None:
    """The name of the first query or path parameter holding a control character."""
    for name, value in request.query_params.multi_items():
        if _CONTROL.search(name) or _CONTROL.search(value):
            return _CONTROL.sub("?", name)
    if _CONTROL.search(unquote(request.url.path)):
        return "path"
    return None


def _method_not_allowed(app: FastAPI, request: Request) -> JSONResponse:
    """A 405 whose Allow header lists every method of the path, across all its routes."""
    allowed: set[str] = set()
    scope = dict(request.scope)
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            allowed.update(getattr(route, "methods", None) or ())
    return JSONResponse(
        status_code=405,
        content=error_body(f"method {request.method} is not allowed here"),
        headers={"Allow": ", ".join(sorted(allowed))},
    )


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def _refuse_control_characters(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        name = _control_character(request)
        if name is not None:
            detail = f"{name}: control characters (such as NUL) are not allowed"
            return JSONResponse(
                status_code=422,
                content=error_body(detail, [{"parameter": name, "message": detail}]),
            )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return JSONResponse(
            status_code=422,
            content=error_body(
                "; ".join(_describe(e) for e in errors),
                [
                    {
                        "parameter": ".".join(str(p) for p in e.get("loc", ())[1:]),
                        "message": str(e["msg"]),
                    }
                    for e in errors
                ],
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return _method_not_allowed(app, request)
        return await http_exception_handler(request, exc)

    @app.exception_handler(DataError)
    async def _out_of_range(_: Request, exc: DataError) -> JSONResponse:
        # A value that passed validation but not the database (an overflow): still
        # the caller's input, so a 4xx that says so, never a 500.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "invalid value"
        return JSONResponse(status_code=422, content=error_body(f"out of range: {reason}"))

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, corrected to what the API really answers."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    components.pop("ValidationError", None)
    components["HTTPValidationError"] = ERROR_SCHEMA
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            _document_answers(operation)
    app.openapi_schema = schema
    return schema


def _document_answers(operation: dict[str, Any]) -> None:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    responses = operation.setdefault("responses", {})
    responses.setdefault(
        "4XX", {"description": "Bad request, naming what is wrong", "content": error}
    )
    if "422" in responses:
        responses["422"]["content"] = error
    for parameter in operation.get("parameters", []):
        _constrain_text(parameter)
    ok = responses.get("200")
    formats = [p for p in operation.get("parameters", []) if p.get("name") == "format"]
    if ok is not None and formats:
        content = ok.setdefault("content", {})
        content.setdefault("text/csv", {"schema": {"type": "string"}})
        enum = formats[0].get("schema", {}).get("enum") or _enum_of(formats[0].get("schema", {}))
        if "atom" in enum:
            content.setdefault("application/atom+xml", {"schema": {"type": "string"}})
    if ok is not None and responses.get("304") is None:
        responses["304"] = {"description": "Not modified (If-None-Match matched the ETag)"}


def _enum_of(schema: dict[str, Any]) -> list[str]:
    for option in schema.get("anyOf", []):
        if "enum" in option:
            return list(option["enum"])
        if "const" in option:
            return [option["const"]]
    return []


# Published on every text parameter: what the control-character guard enforces.
TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f]*$"


def _constrain_text(parameter: dict[str, Any]) -> None:
    schema = parameter.get("schema", {})
    options = schema.get("anyOf", [schema])
    for option in options:
        targets = [option.get("items", {})] if option.get("type") == "array" else [option]
        for target in targets:
            if target.get("type") == "string" and "format" not in target and "enum" not in target:
                target.setdefault("pattern", TEXT_PATTERN)
                if parameter.get("required"):
                    target.setdefault("minLength", 1)
