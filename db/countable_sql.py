""" "Which prices count" as SQL fragments, for the readers that query versions
directly (alerts, cheapest picks, break-even, introduction prices, /v1/prices).
The frame-based curves apply the same rules in costcurve.analytics.countable.

Aliases: ``v`` a version row, ``o`` its offering.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, false, func

from costcurve.core.offer_terms import STANDARD
from db.freshness import FALLBACK_SECONDS, horizon_sql_values
from db.models import FLAG_STATUSES, PriceFlag

# Flags in these states keep a version out of curves, cheapest picks, alerts, break-even.
EXCLUDING = tuple(s for s in FLAG_STATUSES if s != "accepted")

# The base context tier: none, or an upper-bounded label such as "<=200k".
BASE_TIER_SQL = "(o.context_tier IS NULL OR left(ltrim(o.context_tier), 1) IN ('<', '\u2264'))"
STANDARD_LLM_SQL = f"(o.variant = '{STANDARD}' AND {BASE_TIER_SQL} AND o.modality = 'text')"


def not_excluded_sql(column: str) -> str:
    """The version has no flag that keeps it out (``column``: price_flag's version column)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM price_flag f WHERE f.{column} = v.id "
        f"AND f.status IN ({', '.join(repr(x) for x in EXCLUDING)}))"
    )


LLM_NOT_EXCLUDED_SQL = not_excluded_sql("llm_price_version_id")
GPU_NOT_EXCLUDED_SQL = not_excluded_sql("gpu_rate_version_id")
# A standard list price that the plausibility screen does not exclude.
COUNTABLE_LLM_SQL = f"({STANDARD_LLM_SQL} AND {LLM_NOT_EXCLUDED_SQL})"


_NO_ROWS = "('', 0::float8)"


def horizon_seconds_sql() -> str:
    """The freshness horizon of ``o.source`` in seconds (settings applied)."""
    slugs, secs = horizon_sql_values()
    values = ", ".join(
        f"('{slug.replace(chr(39), chr(39) * 2)}', {sec!r}::float8)"
        for slug, sec in zip(slugs, secs, strict=True)
    )
    return (
        f"COALESCE((SELECT h.secs FROM (VALUES {values or _NO_ROWS}) "
        f"AS h(slug, secs) WHERE h.slug = o.source), {FALLBACK_SECONDS!r})"
    )


def stale_sql(at: str) -> str:
    """True when the version was last seen more than its source's horizon before ``at``."""
    return f"(v.last_seen_at + make_interval(secs => {horizon_seconds_sql()}) < {at})"


# The same rules as SQLAlchemy expressions over any (version, offering) tables,
# for readers that build queries from the table definitions (db/queries.py).


def horizon_seconds_expr(offering: Any) -> Any:
    """The freshness horizon of the offering's source in seconds (settings applied)."""
    slugs, secs = horizon_sql_values()
    return case(
        dict(zip(slugs, secs, strict=True)), value=offering.c.source, else_=FALLBACK_SECONDS
    )


def stale_expr(version: Any, offering: Any, at: datetime | Any) -> Any:
    """Last seen longer ago than its source's horizon before ``at`` (an instant or a column)."""
    seconds = func.make_interval(0, 0, 0, 0, 0, 0, horizon_seconds_expr(offering))
    return (version.c.last_seen_at + seconds) < at


def excluded_expr(version: Any, flag_column: str) -> Any:
    """The version has a flag that keeps it out (quarantined, or rejected by a person)."""
    if not flag_column:
        return false()
    flags = PriceFlag.__table__  # type: ignore[attr-defined]
    return exists().where(flags.c[flag_column] == version.c.id, flags.c.status.in_(EXCLUDING))
