"""Column helpers: money is NUMERIC, time is timestamptz, everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Numeric
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
