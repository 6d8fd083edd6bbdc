"""The dashboard: server-rendered pages at ``/`` and ``/ui/...`` over the v1 read functions.

Pages read through the same functions as the JSON routes (``api.v1_*``), so a
number on a page is the number the API returns; charts are Plotly, served by
the app itself from the ``plotly`` package, so the dashboard works offline.
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from api.ui import assets, pages

    assets.install_docs(app)
    app.include_router(assets.router)
    app.include_router(pages.router)
