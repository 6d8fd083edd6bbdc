"""What flows share at run time: the app database, the API's address, the flow run.

A flow run started by a worker or by ``costcurve up`` is its own process and
opens the database from the environment (``DATABASE_URL``, which ``up`` sets to
its embedded server). A caller that already holds an engine in-process (tests,
``costcurve run-flow``) hands it over with :func:`use_engine` instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

_engine: Engine | None = None


def use_engine(engine: Engine | None) -> None:
    """Make flows in this process use ``engine`` (None: back to the configured one)."""
    global _engine
    _engine = engine


@contextmanager
def engine_in_use(engine: Engine) -> Iterator[Engine]:
    previous = _engine
    use_engine(engine)
    try:
        yield engine
    finally:
        use_engine(previous)


def engine() -> Engine:
    if _engine is not None:
        return _engine
    from db.engine import get_engine

    return get_engine()


def api_base_url() -> str:
    """Where people reach the API, for links in artifacts."""
    from costcurve.config import get_settings

    public = get_settings().api_public_url
    return public.rstrip("/") if public else api_internal_url()


def api_internal_url() -> str:
    """Where this process reaches the API (COSTCURVE_API_HOST/PORT)."""
    from costcurve.config import get_settings

    settings = get_settings()
    # A wildcard bind address is not somewhere to connect to.
    host = "127.0.0.1" if settings.api_host in {"0.0.0.0", "::", ""} else settings.api_host
    return f"http://{host}:{settings.api_port}"


def flow_run_id() -> uuid.UUID | None:
    """The id of the flow run this code runs in, or None outside Prefect."""
    from prefect.runtime import flow_run

    value = flow_run.get_id()
    return uuid.UUID(str(value)) if value else None
