"""Token prices: current, historical, and recent changes (JSON, CSV, Atom)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from xml.sax.saxutils import escape

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import Engine, text

from api.deps import EngineDep
from api.params import IsoDatetime
from api.responses import FormatQuery, LimitQuery, OffsetQuery, cached, table
from api.sql import aware
from costcurve.catalog import load_models
from costcurve.catalog.models import Tier
from costcurve.core.jsonenc import plain
from costcurve.core.offer_terms import same_price
from db import queries

router = APIRouter(prefix="/v1", tags=["prices"])

# Derived from the table definitions (db/queries.py), plus the tier from the catalog.
PRICE_COLUMNS = (*queries.LLM.listing_names(), "tier")


def _with_tier(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    models = load_models()
    for row in rows:
        model = models.get(row["model"]) if row["model"] else None
        row["tier"] = model.tier if model else None
    return rows


def _slugs_in_tier(tier: str) -> list[str]:
    return [slug for slug, m in load_models().items() if m.tier == tier]


@dataclass(frozen=True)
class PriceFilter:
    """Filters of the current-price listing (``/v1/prices`` and the dashboard's Prices page)."""

    provider: str | None = None
    model: str | None = None
    tier: str | None = None
    source: str | None = None
    variant: str | None = None
    include_free: bool = True
    # Offerings past their source's freshness horizon are left out unless asked for.
    include_stale: bool = False


def current_prices(
    engine: Engine, filters: PriceFilter, *, limit: int, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(total, one page of rows) of the prices in effect now, with their catalog tier."""
    listing = queries.Listing(
        equal={
            "provider": filters.provider,
            "model_slug": filters.model,
            "source": filters.source,
            "variant": filters.variant,
        },
        any_of={"model_slug": _slugs_in_tier(filters.tier)} if filters.tier is not None else {},
        where=() if filters.include_free else (~queries.LLM.version.c.free,),
        fresh_only=not filters.include_stale,
    )
    page = queries.Page(limit, offset)
    with engine.connect() as conn:
        total, rows = queries.read_at(conn, queries.LLM, listing, datetime.now(UTC), page=page)
    return total, _with_tier(rows)


@router.get(
    "/prices",
    summary="Current token prices (filter by provider, model, tier)",
    description=(
        "Every offering's version in effect now, with `last_seen_at` and `stale` (last "
        "seen longer ago than its source's freshness horizon; left out unless "
        "`include_stale`) and `quarantined` (held back by the plausibility screen)."
    ),
)
def prices(
    request: Request,
    engine: EngineDep,
    provider: str | None = None,
    model: Annotated[str | None, Query(description="Canonical model slug")] = None,
    tier: Tier | None = None,
    source: str | None = None,
    variant: str | None = None,
    include_free: bool = True,
    include_stale: Annotated[
        bool, Query(description="Also list prices past their source's freshness horizon")
    ] = False,
    limit: Annotated[int, LimitQuery] = 100,
    offset: Annotated[int, OffsetQuery] = 0,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    filters = PriceFilter(provider, model, tier, source, variant, include_free, include_stale)
    total, rows = current_prices(engine, filters, limit=limit, offset=offset)
    return table(
        request,
        rows,
        fmt=fmt,
        total=total,
        limit=limit,
        offset=offset,
        columns=PRICE_COLUMNS,
    )


@dataclass(frozen=True)
class OfferingKey:
    """Which offerings a history read covers: a provider's model id, or a canonical model."""

    provider: str | None = None
    provider_model_id: str | None = None
    model: str | None = None
    source: str | None = None


def offering_history(
    engine: Engine, key: OfferingKey, *, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    """Every price version of the matching offerings (or those in effect at ``as_of``)."""
    return offering_history_page(engine, key, as_of=as_of)[1]


def offering_history_page(
    engine: Engine,
    key: OfferingKey,
    *,
    as_of: datetime | None = None,
    page: queries.Page | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """(matching offerings, their price versions) for one page of offerings.

    Every version of each offering, or only the one in effect at ``as_of``.
    """
    listing = queries.Listing(
        equal={
            "provider": key.provider,
            "provider_model_id": key.provider_model_id,
            "model_slug": key.model,
            "source": key.source,
        }
    )
    with engine.connect() as conn:
        if as_of is None:
            total, rows = queries.history_page(conn, queries.LLM, listing, page)
        else:
            # One version per offering at an instant: a page of rows is a page of offerings.
            total, rows = queries.read_at(conn, queries.LLM, listing, aware(as_of), page=page)
    return total, _with_tier(rows)


@router.get(
    "/prices/history",
    summary="Every price version of an offering, or the prices in effect at `as_of`",
    description=(
        "Paged by offering: `limit` and `offset` count offerings (ordered by provider, "
        "model id, variant, ...), `total` is the number of matching offerings, and a page "
        "holds every version of each of its offerings (oldest first)."
    ),
)
def price_history(
    request: Request,
    engine: EngineDep,
    provider: Annotated[str | None, Query(description="Who sells the tokens")] = None,
    provider_model_id: str | None = None,
    model: Annotated[str | None, Query(description="Canonical model slug")] = None,
    source: str | None = None,
    as_of: Annotated[IsoDatetime | None, Query(description="Only versions in effect then")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Offerings per page (1-1000)")] = 100,
    offset: Annotated[int, OffsetQuery] = 0,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    if provider_model_id is None and model is None:
        raise HTTPException(422, detail="give provider_model_id (with provider) or model")
    if provider_model_id is not None and provider is None:
        raise HTTPException(422, detail="provider: required with provider_model_id")
    total, rows = offering_history_page(
        engine,
        OfferingKey(provider, provider_model_id, model, source),
        as_of=as_of,
        page=queries.Page(limit, offset),
    )
    if total == 0 and as_of is None:
        raise HTTPException(404, detail="no offering matches those parameters")
    return table(
        request,
        rows,
        fmt=fmt,
        total=total,
        limit=limit,
        offset=offset,
        columns=PRICE_COLUMNS,
    )


_CHANGES_SQL = """
    SELECT o.source, o.provider, o.provider_model_id,
           COALESCE(v.model_slug, o.model_slug) AS model, o.variant,
           o.context_tier, v.id AS version_id, v.valid_from AS changed_at, v.recorded_at,
           v.change_kind, p.input_usd_per_mtok AS old_input_usd_per_mtok,
           p.output_usd_per_mtok AS old_output_usd_per_mtok,
           v.input_usd_per_mtok AS new_input_usd_per_mtok,
           v.output_usd_per_mtok AS new_output_usd_per_mtok,
           p.cached_input_usd_per_mtok AS old_cached_input_usd_per_mtok,
           v.cached_input_usd_per_mtok AS new_cached_input_usd_per_mtok,
           p.cache_write_usd_per_mtok AS old_cache_write_usd_per_mtok,
           v.cache_write_usd_per_mtok AS new_cache_write_usd_per_mtok,
           p.cache_write_1h_usd_per_mtok AS old_cache_write_1h_usd_per_mtok,
           v.cache_write_1h_usd_per_mtok AS new_cache_write_1h_usd_per_mtok,
           p.free AS old_free, v.free AS new_free
    FROM llm_price_version v
    JOIN llm_offering o ON o.id = v.offering_id
    JOIN llm_price_version p ON p.offering_id = v.offering_id AND p.valid_to = v.valid_from
    WHERE v.recorded_at >= :since
    ORDER BY v.recorded_at DESC, v.id DESC
    LIMIT :limit
"""


def _atom(request: Request, rows: list[dict[str, Any]]) -> bytes:
    updated = plain(rows[0]["recorded_at"]) if rows else plain(datetime.now(UTC))
    entries = []
    for r in rows:
        title = (
            f"{r['provider']} {r['provider_model_id']}: input "
            f"{plain(r['old_input_usd_per_mtok'])} -> {plain(r['new_input_usd_per_mtok'])}, "
            f"output {plain(r['old_output_usd_per_mtok'])} -> "
            f"{plain(r['new_output_usd_per_mtok'])} USD/M tokens"
        )
        entries.append(
            f"<entry><id>urn:costcurve:llm-price-version:{r['version_id']}</id>"
            f"<title>{escape(title)}</title><updated>{plain(r['recorded_at'])}</updated>"
            f"<summary>{escape(r['source'])} ({escape(r['variant'])})</summary></entry>"
        )
    feed = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(str(request.url))}</id><title>costcurve price changes</title>"
        f"<updated>{updated}</updated>{''.join(entries)}</feed>"
    )
    return feed.encode()


def _noise_only(row: dict[str, Any]) -> bool:
    names = [k[4:] for k in row if k.startswith("new_")]
    return all(
        same_price(row[f"old_{n}"], row[f"new_{n}"])
        if not isinstance(row[f"new_{n}"], bool)
        else row[f"old_{n}"] == row[f"new_{n}"]
        for n in names
    )


def recent_changes(
    engine: Engine, *, since: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Price changes (old -> new) recorded since ``since``, newest first: the feed's rows."""
    since = aware(since) if since else datetime(1970, 1, 1, tzinfo=UTC)
    with engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(text(_CHANGES_SQL), {"since": since, "limit": limit}).mappings()
        ]
    # A move smaller than the published precision (float noise) is not a change.
    rows = [r for r in rows if not _noise_only(r)]
    for r in rows:
        old, new = r["old_output_usd_per_mtok"], r["new_output_usd_per_mtok"]
        r["output_change_pct"] = (
            round(float((new - old) / old * 100), 2) if old and new is not None else None
        )
    return rows


@router.get("/changes", summary="Recent token price changes (JSON, CSV or an Atom feed)")
def changes(
    request: Request,
    engine: EngineDep,
    since: Annotated[IsoDatetime | None, Query(description="Changes recorded since")] = None,
    limit: Annotated[int, LimitQuery] = 100,
    fmt: Annotated[
        Literal["json", "csv", "atom"], Query(alias="format", description="json, csv or atom")
    ] = "json",
) -> Response:
    rows = recent_changes(engine, since=since, limit=limit)
    if fmt == "atom":
        return cached(request, _atom(request, rows), "application/atom+xml")
    return table(request, rows, fmt=fmt)


@dataclass(frozen=True)
class RunFilter:
    source: str | None = None
    status: str | None = None


def pipeline_runs(
    engine: Engine, filters: RunFilter, *, limit: int, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(total, one page) of pipeline runs, newest first."""
    where = ["true"]
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if filters.source:
        where.append("source = :source")
        params["source"] = filters.source
    if filters.status:
        where.append("status = :status")
        params["status"] = filters.status
    clause = " WHERE " + " AND ".join(where)
    with engine.connect() as conn:
        total = conn.execute(
            text("SELECT count(*) FROM pipeline_run" + clause), params
        ).scalar_one()
        rows = [
            dict(r)
            for r in conn.execute(
                text(
                    "SELECT id, source, flow_run_id, trigger, status, started_at, finished_at, "
                    "observed_at, observations, new_versions, closed_versions, unchanged, skipped, "
                    "listing_complete, snapshot_sha256, error FROM pipeline_run"
                    + clause
                    + " ORDER BY id DESC LIMIT :limit OFFSET :offset"
                ),
                params,
            ).mappings()
        ]
    return total, rows


@router.get("/runs", summary="Pipeline runs: source, status, counts, error, Prefect flow-run id")
def runs(
    request: Request,
    engine: EngineDep,
    source: str | None = None,
    status: Literal["running", "succeeded", "failed"] | None = None,
    limit: Annotated[int, LimitQuery] = 100,
    offset: Annotated[int, OffsetQuery] = 0,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    total, rows = pipeline_runs(engine, RunFilter(source, status), limit=limit, offset=offset)
    return table(request, rows, fmt=fmt, total=total, limit=limit, offset=offset)
