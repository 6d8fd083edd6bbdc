"""WHERE-clause pieces shared by the v1 routes (offering aliased ``o``, version ``v``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def equal_filters(**columns: Any) -> tuple[list[str], dict[str, Any]]:
    """``o.<column> = :<column>`` for every column given a non-null value."""
    where, params = [], {}
    for column, value in columns.items():
        if value is not None:
            where.append(f"o.{column} = :{column}")
            params[column] = value
    return where, params


def in_effect(param: str) -> str:
    """The version was in effect at the instant bound to ``:param``."""
    return f"v.valid_from <= :{param} AND (v.valid_to IS NULL OR v.valid_to > :{param})"


def aware(value: datetime) -> datetime:
    """A query parameter without a zone is read as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
