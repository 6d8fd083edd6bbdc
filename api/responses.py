"""Response helpers shared by the v1 routes: JSON or CSV, ETag and Cache-Control,
and pagination envelopes."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from typing import Any, Literal

from fastapi import Query, Request, Response

from api import data_version
from costcurve.config import get_settings
from costcurve.core.jsonenc import dumps, plain

Format = Literal["json", "csv"]
FormatQuery = Query(alias="format", description="`json` (default) or `csv` for tables")
MAX_OFFSET = 10_000_000
LimitQuery = Query(ge=1, le=1000, description="Page size (1-1000)")
OffsetQuery = Query(ge=0, le=MAX_OFFSET, description=f"Rows to skip (0-{MAX_OFFSET})")


def _etag(body: bytes) -> str:
    # The data version the body was computed from leads the tag (api.data_version).
    version = data_version.noted()
    digest = hashlib.sha256(body).hexdigest()[:32]
    return f'"{version}-{digest}"' if version else f'"{digest}"'


def cached(request: Request, body: bytes, media_type: str, etag: str | None = None) -> Response:
    """A response with ETag and Cache-Control; 304 when the client has it already."""
    tag = etag or _etag(body)
    headers = {
        "ETag": tag,
        "Cache-Control": f"public, max-age={get_settings().cache_max_age_s}",
    }
    if not_modified(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=media_type, headers=headers)


def not_modified(if_none_match: str | None, tag: str) -> bool:
    """RFC 9110 13.1.2: ``*`` or any listed tag matching ours by weak comparison."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = tag.removeprefix("W/")
    return any(
        candidate.strip().removeprefix("W/") == ours for candidate in if_none_match.split(",")
    )


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> bytes:
    out = io.StringIO()
    cols = list(columns or (rows[0].keys() if rows else []))
    writer = csv.DictWriter(out, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: plain(v) for k, v in row.items()})
    return out.getvalue().encode()


def table(
    request: Request,
    rows: list[dict[str, Any]],
    *,
    fmt: Format,
    total: int | None = None,
    limit: int | None = None,
    offset: int = 0,
    extra: dict[str, Any] | None = None,
    columns: Sequence[str] | None = None,
) -> Response:
    if fmt == "csv":
        return cached(request, to_csv(rows, columns), "text/csv; charset=utf-8")
    envelope: dict[str, Any] = dict(extra or {})
    envelope["items"] = rows
    if limit is not None:
        envelope |= {"total": total, "limit": limit, "offset": offset}
        envelope["next_offset"] = (
            offset + limit if total is not None and offset + limit < total else None
        )
    return cached(request, dumps(envelope).encode(), "application/json")
