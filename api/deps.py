"""Request dependencies: the app's engine, injected by create_app.

Routes read with SQLAlchemy Core over ``EngineDep`` (set-based queries and
COPY-backed frames); there is no ORM session to manage per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine


async def get_engine_dep(request: Request) -> Engine:
    # async: a plain attribute read, not worth a hop to the thread pool per request.
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine_dep)]
