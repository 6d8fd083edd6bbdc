"""Data quality: sources' freshness, quarantined prices, cross-source comparison."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import text

from api.deps import EngineDep
from api.responses import FormatQuery, LimitQuery, OffsetQuery, cached, table
from api.sql import aware, in_effect
from costcurve.catalog import load_models
from costcurve.catalog.first_party import first_party_providers
from costcurve.core.formulas import DEFAULT_BLEND
from costcurve.core.jsonenc import dumps
from db.anomalies import ANOMALY_COLUMNS, anomaly_rows
from db.countable_sql import LLM_NOT_EXCLUDED_SQL, STANDARD_LLM_SQL, stale_sql
from db.freshness import declared_cadences, horizon_of

router = APIRouter(prefix="/v1", tags=["quality"])

_SOURCES_SQL = """
    SELECT s.slug AS source, s.kind, s.listing_complete,
           ok.finished_at AS last_success_at, ok.observed_at AS last_success_observed_at,
           bad.finished_at AS last_failure_at, bad.error AS last_failure_error
    FROM source s
    LEFT JOIN LATERAL (SELECT finished_at, observed_at FROM pipeline_run r
                       WHERE r.source = s.slug AND r.status = 'succeeded'
                       ORDER BY finished_at DESC NULLS LAST LIMIT 1) ok ON true
    LEFT JOIN LATERAL (SELECT finished_at, error FROM pipeline_run r
                       WHERE r.source = s.slug AND r.status = 'failed'
                       ORDER BY finished_at DESC NULLS LAST LIMIT 1) bad ON true
    ORDER BY s.slug
"""


def _counts_sql(version: str, offering: str) -> str:
    return f"""
        SELECT o.source, count(*) AS current_rows,
               count(*) FILTER (WHERE {stale_sql(":now")}) AS stale_rows
        FROM {version} v JOIN {offering} o ON o.id = v.offering_id
        WHERE v.valid_to IS NULL GROUP BY o.source
    """


@router.get(
    "/sources",
    summary="Per source: last success, last failure with its error, rows and freshness",
    description=(
        "`freshness` is `fresh` when the last successful run observed data within the "
        "source's horizon, `stale` when it is older, `never` without a successful run. "
        "`current_rows` counts open versions, `stale_rows` those past the horizon."
    ),
)
def sources(request: Request, engine: EngineDep) -> Response:
    now = datetime.now(UTC)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(text(_SOURCES_SQL)).mappings()]
        counts: dict[str, dict[str, int]] = {}
        for version, offering in (
            ("llm_price_version", "llm_offering"),
            ("gpu_rate_version", "gpu_offering"),
        ):
            for r in conn.execute(text(_counts_sql(version, offering)), {"now": now}).mappings():
                entry = counts.setdefault(r["source"], {"current_rows": 0, "stale_rows": 0})
                entry["current_rows"] += r["current_rows"]
                entry["stale_rows"] += r["stale_rows"]
    cadences = declared_cadences()
    for row in rows:
        horizon = horizon_of(row["source"])
        cadence = cadences.get(row["source"])
        seen = row["last_success_observed_at"] or row["last_success_at"]
        row["cadence_hours"] = cadence.total_seconds() / 3600 if cadence else None
        row["horizon_days"] = horizon.total_seconds() / 86400
        row["freshness"] = (
            "never" if seen is None else ("fresh" if now - seen <= horizon else "stale")
        )
        row |= counts.get(row["source"], {"current_rows": 0, "stale_rows": 0})
    return cached(request, dumps({"items": rows}).encode(), "application/json")


@router.get(
    "/anomalies",
    summary="Prices the plausibility screen quarantined: reason, source value, consensus",
    description=(
        "`consensus` is the reference the value was compared with: the median of the "
        "model's other listings (`far_from_consensus`), the previous price "
        "(`jump_vs_previous`) or the input price (`output_below_input`). Review with "
        "`costcurve anomalies accept|reject ID`."
    ),
)
def anomalies(
    request: Request,
    engine: EngineDep,
    status: Literal["quarantined", "accepted", "rejected"] | None = "quarantined",
    source: str | None = None,
    reason: Literal[
        "above_text_cap", "output_below_input", "far_from_consensus", "jump_vs_previous"
    ]
    | None = None,
    limit: Annotated[int, LimitQuery] = 100,
    offset: Annotated[int, OffsetQuery] = 0,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    with engine.connect() as conn:
        rows = anomaly_rows(conn, status=status, source=source, reason=reason)
    page = rows[offset : offset + limit]
    return table(
        request,
        page,
        fmt=fmt,
        total=len(rows),
        limit=limit,
        offset=offset,
        columns=ANOMALY_COLUMNS,
    )


def _compare_sql() -> str:
    return f"""
        SELECT o.source, o.provider, o.provider_model_id, v.input_usd_per_mtok,
               v.output_usd_per_mtok, v.valid_from, v.last_seen_at,
               {stale_sql(":at")} AS stale, NOT {LLM_NOT_EXCLUDED_SQL} AS quarantined
        FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id
        WHERE COALESCE(v.model_slug, o.model_slug) = :model AND {STANDARD_LLM_SQL}
          AND NOT v.free AND {in_effect("at")}
        ORDER BY o.provider, o.source, o.provider_model_id
    """


def _median(values: list[Decimal]) -> Decimal | None:
    return statistics.median(values) if values else None


def _pct(value: Decimal | None, reference: Decimal | None) -> Decimal | None:
    if value is None or not reference:
        return None
    return round((value - reference) / reference * 100, 2)


def _per_seller(listings: list[dict[str, Any]]) -> dict[str, Decimal]:
    """One blended price per seller (provider): several sources quoting it count once."""
    quotes: dict[str, list[Decimal]] = {}
    for row in listings:
        if row["blended_usd_per_mtok"] is not None:
            quotes.setdefault(row["provider"], []).append(row["blended_usd_per_mtok"])
    return {p: statistics.median(q) for p, q in quotes.items()}


@router.get(
    "/prices/compare",
    summary="Every source's price for a canonical model, the consensus and each deviation",
    description=(
        "Standard list prices (base context tier) in effect at `as_of` (default now). "
        "The consensus is the median blended (3:1) price over sellers, one value per "
        "seller (first-party and independent hosts alike), leaving out stale and "
        "quarantined listings. Each listing has `deviation_pct` from the consensus and "
        "`markup_vs_first_party_pct` over the model maker's own price (null without one)."
    ),
)
def compare(
    request: Request,
    engine: EngineDep,
    model: Annotated[str, Query(description="Canonical model slug")],
    as_of: Annotated[datetime | None, Query(description="Instant to compare at")] = None,
) -> Response:
    catalog = load_models()
    if model not in catalog:
        raise HTTPException(422, detail=f"model: unknown canonical model {model!r}")
    at = aware(as_of) if as_of else datetime.now(UTC)
    with engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(text(_compare_sql()), {"model": model, "at": at}).mappings()
        ]
    own = first_party_providers(catalog[model].vendor)
    for row in rows:
        inp, out = row["input_usd_per_mtok"], row["output_usd_per_mtok"]
        row["blended_usd_per_mtok"] = (
            None if inp is None or out is None else DEFAULT_BLEND.blend(inp, out)
        )
        row["first_party"] = row["provider"] in own
    usable = [r for r in rows if not r["stale"] and not r["quarantined"]]
    sellers = _per_seller(usable)
    consensus = _median(list(sellers.values()))
    first_party = _median([p for s, p in sellers.items() if s in own])
    for row in rows:
        row["deviation_pct"] = _pct(row["blended_usd_per_mtok"], consensus)
        row["markup_vs_first_party_pct"] = _pct(row["blended_usd_per_mtok"], first_party)
    body = {
        "model": model,
        "as_of": at,
        "unit": "usd_per_mtok",
        "consensus_blended_usd_per_mtok": consensus,
        "consensus_input_usd_per_mtok": _median(
            [r["input_usd_per_mtok"] for r in usable if r["input_usd_per_mtok"] is not None]
        ),
        "consensus_output_usd_per_mtok": _median(
            [r["output_usd_per_mtok"] for r in usable if r["output_usd_per_mtok"] is not None]
        ),
        "first_party_blended_usd_per_mtok": first_party,
        "sellers": len(sellers),
        "listings": rows,
    }
    return cached(request, dumps(body).encode(), "application/json")
