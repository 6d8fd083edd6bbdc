"""Point-in-time reads of the versioned price tables.

``as_of`` answers "what was the price at D"; adding ``believed_at`` answers
"what did we believe at R the price at D was": versions recorded after R are
ignored and a close recorded after R is treated as not yet known.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from db.models import LlmOffering, LlmPriceVersion

_o = LlmOffering.__table__  # type: ignore[attr-defined]
_v = LlmPriceVersion.__table__  # type: ignore[attr-defined]


def _in_effect(at: datetime, believed_at: datetime | None) -> Any:
    if believed_at is None:
        return and_(_v.c.valid_from <= at, or_(_v.c.valid_to.is_(None), _v.c.valid_to > at))
    return and_(
        _v.c.recorded_at <= believed_at,
        _v.c.valid_from <= at,
        or_(
            _v.c.valid_to.is_(None),
            _v.c.valid_to > at,
            _v.c.closed_recorded_at > believed_at,
        ),
    )


def llm_prices_as_of(
    conn: Connection,
    at: datetime,
    *,
    believed_at: datetime | None = None,
    source: str | None = None,
    provider: str | None = None,
    provider_model_id: str | None = None,
    model: str | None = None,
) -> list[dict[str, Any]]:
    query = (
        select(_o, _v.c.id.label("version_id"), *(c for c in _v.c if c.name not in {"id"}))
        .join(_v, _v.c.offering_id == _o.c.id)
        .where(_in_effect(at, believed_at))
        .order_by(_o.c.provider, _o.c.provider_model_id, _o.c.variant, _o.c.context_tier)
    )
    for column, value in (
        (_o.c.source, source),
        (_o.c.provider, provider),
        (_o.c.provider_model_id, provider_model_id),
        (_o.c.model_slug, model),
    ):
        if value is not None:
            query = query.where(column == value)
    return [dict(r._mapping) for r in conn.execute(query)]


def llm_history(
    conn: Connection, *, source: str, provider: str, provider_model_id: str
) -> list[dict[str, Any]]:
    query = (
        select(_o.c.variant, _o.c.context_tier, _o.c.modality, _v)
        .join(_v, _v.c.offering_id == _o.c.id)
        .where(
            _o.c.source == source,
            _o.c.provider == provider,
            _o.c.provider_model_id == provider_model_id,
        )
        .order_by(_o.c.variant, _o.c.context_tier, _v.c.valid_from)
    )
    return [dict(r._mapping) for r in conn.execute(query)]
