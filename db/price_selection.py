"""Which stored API prices count for break-even, as one SQL predicate and one lookup.

ARCHITECTURE.md "Which prices count": curves, cheapest picks, alerts and
break-even use standard list prices of current, non-quarantined offerings. The
predicate is :data:`STANDARD_PRICE_WHERE`, built from the fragments of
``db/countable_sql.py`` that every SQL reader shares (the in-memory curves apply
the same rule in ``costcurve.analytics.countable``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from costcurve.core.formulas import DEFAULT_BLEND
from db.countable_sql import COUNTABLE_LLM_SQL, stale_sql

# Standard list prices of the base context tier that the plausibility screen
# does not exclude (db/countable_sql.py), of the version's own canonical model.
STANDARD_PRICE_WHERE = f"COALESCE(v.model_slug, o.model_slug) IS NOT NULL AND {COUNTABLE_LLM_SQL}"
# A price one can run a workload on: not a free (rate-limited) listing, both sides priced.
_PAYABLE_WHERE = "NOT v.free AND v.input_usd_per_mtok > 0 AND v.output_usd_per_mtok IS NOT NULL"


def cheapest_standard_price(
    conn: Connection, model: str, at: datetime, *, include_stale: bool = False
) -> dict[str, Any] | None:
    """The cheapest blended (3:1) standard price of ``model`` in effect at ``at``.

    A price past its source's freshness horizon at ``at`` is left out unless
    ``include_stale``.

    Returns provider, source, provider_model_id, variant, input/output and
    blended ``usd_per_mtok``, valid_from and the selection rule, or None.
    """
    fresh = "true" if include_stale else f"NOT {stale_sql(':at')}"
    sql = f"""
        SELECT o.provider, o.source, o.provider_model_id, o.variant,
               v.input_usd_per_mtok, v.output_usd_per_mtok, v.valid_from,
               {DEFAULT_BLEND.sql("v.input_usd_per_mtok", "v.output_usd_per_mtok")} AS blended
        FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id
        WHERE COALESCE(v.model_slug, o.model_slug) = :model AND {STANDARD_PRICE_WHERE}
          AND {_PAYABLE_WHERE} AND {fresh}
          AND v.valid_from <= :at AND (v.valid_to IS NULL OR v.valid_to > :at)
        ORDER BY blended, o.provider, o.id LIMIT 1
    """
    row = conn.execute(text(sql), {"model": model, "at": at}).mappings().first()
    if row is None:
        return None
    found = dict(row)
    found["usd_per_mtok"] = found.pop("blended")
    found["selection"] = (
        "cheapest current, fresh, unquarantined standard blended (3 x input + output) / 4 price"
    )
    return found
