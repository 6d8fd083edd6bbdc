"""Column helpers: money is NUMERIC, time is timestamptz, everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Numeric
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import UserDefinedType
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def money(*, nullable: bool = True, **kwargs: Any) -> Any:
    # Unconstrained NUMERIC keeps per-token prices exact after scaling to per-million.
    return Field(sa_column=Column(Numeric(asdecimal=True), nullable=nullable), **kwargs)


def timestamptz(*, nullable: bool = False, index: bool = False, **kwargs: Any) -> Any:
    return Field(
        sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index), **kwargs
    )


class Xid8(UserDefinedType[str]):
    """PostgreSQL's 64-bit transaction id (``xid8``): which transaction last wrote a row.

    Only SQL reads it (``pg_visible_in_snapshot``), so Python sees it as text.
    """

    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "xid8"


# Reflection (alembic's drift check) reads the column back as this type, not NullType.
ischema_names["xid8"] = Xid8


def changed_xid() -> Any:
    """The transaction that last inserted or updated the row (set by a trigger, 0011)."""
    # Indexed on the record tables (db/models.py), where the rows live.
    return Field(default=None, sa_column=Column(Xid8(), nullable=True))
