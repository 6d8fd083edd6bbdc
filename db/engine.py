"""Engines and sessions for the app database (external or embedded)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Engine, create_engine

from costcurve.config import Settings, get_settings
from db.embedded import APP_DATABASE, EmbeddedPostgres


def sqlalchemy_url(url: str) -> str:
    """Use the psycopg 3 driver whatever spelling the URL came in."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url}")


@dataclass
class Database:
    url: str
    embedded: EmbeddedPostgres | None = None


@cache
def open_database(settings: Settings | None = None) -> Database:
    """The configured database; starts embedded PostgreSQL when DATABASE_URL is unset."""
    settings = settings or get_settings()
    if settings.database_url:
        return Database(sqlalchemy_url(settings.database_url))
    embedded = EmbeddedPostgres(settings.data_dir)
    embedded.ensure_database(APP_DATABASE)
    return Database(embedded.url(APP_DATABASE), embedded)


def make_engine(url: str, **kwargs: object) -> Engine:
    return create_engine(sqlalchemy_url(url), pool_pre_ping=True, **kwargs)


@cache
def get_engine() -> Engine:
    return make_engine(open_database().url)
