"""WHERE-clause pieces shared by the v1 routes (offering aliased ``o``, version ``v``)."""

from __future__ import annotations

from datetime import UTC, datetime


def in_effect(param: str) -> str:
    """The version was in effect at the instant bound to ``:param``."""
    return f"v.valid_from <= :{param} AND (v.valid_to IS NULL OR v.valid_to > :{param})"


def aware(value: datetime) -> datetime:
    """A query parameter without a zone is read as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
