"""Small frame helpers shared by the analytics modules (not public API)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

import polars as pl

UTC_DATETIME = pl.Datetime("us", "UTC")


def require_columns(df: pl.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} is missing column(s) {', '.join(missing)}; it has {', '.join(df.columns)}"
        )


def as_utc_datetime(df: pl.DataFrame, column: str) -> pl.Expr:
    """``column`` as Datetime(us, UTC): a date is its midnight UTC, a naive datetime is UTC."""
    dtype = df.schema[column]
    col = pl.col(column)
    if dtype == pl.Date:
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return col.dt.cast_time_unit("us").dt.replace_time_zone("UTC")
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if dtype == pl.String:
        return col.str.to_datetime(time_unit="us", time_zone="UTC")
    if dtype == pl.Null:
        return col.cast(UTC_DATETIME)
    raise ValueError(f"column {column!r} must hold dates or datetimes, not {dtype}")


def as_date(df: pl.DataFrame, column: str) -> pl.Expr:
    """``column`` as a calendar date (UTC for datetimes; ISO text such as 2024-05-13)."""
    if df.schema[column] == pl.Date:
        return pl.col(column)
    if df.schema[column] == pl.String:
        return pl.col(column).str.strip_chars().str.to_date("%Y-%m-%d")
    return as_utc_datetime(df, column).dt.date()


def as_utc_instant(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def days_since_epoch(df: pl.DataFrame, column: str) -> pl.Expr:
    """Fractional days since 1970-01-01 UTC, the x axis of every time fit."""
    return as_utc_datetime(df, column).dt.epoch("us").cast(pl.Float64) / 86_400_000_000.0
