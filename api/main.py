"""The application factory. Routers are mounted here; the engine is injected."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

import costcurve
from api import (
    alerts,
    breakeven,
    data_version,
    errors,
    health,
    selfhosted,
    ui,
    v1_curves,
    v1_gpu_index,
    v1_gpus,
    v1_prices,
    v1_quality,
    v1_tiers,
)


def create_app(engine: Engine | None = None) -> FastAPI:
    app = FastAPI(
        title="costcurve",
        version=costcurve.__version__,
        summary="What a million tokens costs, from whom, on which GPU, and how fast it falls.",
        # Served by api.ui.assets from local files: the docs work offline.
        docs_url=None,
        redoc_url=None,
    )
    if engine is None:
        from db.engine import get_engine

        engine = get_engine()
    app.state.engine = engine
    errors.install(app)
    app.add_middleware(data_version.DataVersionMiddleware)
    app.include_router(health.router)
    app.include_router(alerts.router)
    app.include_router(v1_curves.router)
    app.include_router(v1_quality.router)
    app.include_router(v1_tiers.router)
    app.include_router(v1_prices.router)
    app.include_router(v1_gpus.router)
    app.include_router(v1_gpu_index.router)
    app.include_router(selfhosted.router)
    app.include_router(breakeven.router)
    ui.install(app)
    return app
