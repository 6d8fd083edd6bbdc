"""``GET /health``: liveness plus database status and schema revision."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import costcurve
from api.deps import EngineDep
from db.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: str
    schema_revision: str | None
    head_revision: str
    error: str | None = None


@router.get("/livez", summary="Liveness only: the process answers (no database access)")
def livez() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health", summary="Service, database and schema status", response_model=Health)
def health(engine: EngineDep) -> JSONResponse:
    head = head_revision()
    try:
        revision = current_revision(engine)
    except Exception as exc:  # the point of a health check is to report this, not raise
        body = Health(
            status="degraded",
            version=costcurve.__version__,
            database="unreachable",
            schema_revision=None,
            head_revision=head,
            error=f"{type(exc).__name__}: {str(exc)[:200]}",
        )
        return JSONResponse(body.model_dump(), status_code=503)
    ok = revision == head
    body = Health(
        status="ok" if ok else "degraded",
        version=costcurve.__version__,
        database="ok",
        schema_revision=revision,
        head_revision=head,
        error=None if ok else "schema is not at head: run `costcurve db upgrade`",
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
