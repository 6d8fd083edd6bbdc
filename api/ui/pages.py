"""Dashboard routes: each page's filters are its query string, so every URL is shareable."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.curve_query import EARLIEST, CurveQuery, CurveQueryDep, Metric
from api.deps import EngineDep
from api.ui import data, figures
from api.ui.render import page
from api.v1_gpus import GpuFilter, SeriesWindow, current_gpu_rates
from api.v1_prices import (
    OfferingKey,
    PriceFilter,
    RunFilter,
    current_prices,
    offering_history,
    pipeline_runs,
    recent_changes,
)
from costcurve.catalog.models import TIERS
from costcurve.core.formulas import BlendRatio

router = APIRouter(include_in_schema=False)

PRICE_ROWS = 500  # one page of the Prices table; sorted and filtered in the browser
BLEND = BlendRatio()


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui/overview", status_code=307)


@router.get("/ui")
@router.get("/ui/")
def ui_root() -> RedirectResponse:
    return RedirectResponse("/ui/overview", status_code=307)


@router.get("/ui/overview", response_class=HTMLResponse)
def overview(request: Request, engine: EngineDep) -> HTMLResponse:
    return page(request, "overview.html", "overview", **data.overview(engine))


@router.get("/ui/curves", response_class=HTMLResponse)
def curves(request: Request, engine: EngineDep, params: CurveQueryDep) -> HTMLResponse:
    query = params.resolved()
    return page(
        request,
        "curves.html",
        "curves",
        query=query,
        tiers=TIERS,
        variants=data.variants(engine),
        chosen_variants=query.variant or ("standard",),
        charts=data.tier_curve_charts(engine, query),
    )


@router.get("/ui/deflation", response_class=HTMLResponse)
def deflation(
    request: Request,
    engine: EngineDep,
    metric: Metric = "blended",
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    benchmark: str | None = None,
    threshold: Annotated[float | None, Query(ge=-1e6, le=1e6, allow_inf_nan=False)] = None,
    exclude_reasoning: bool = False,
) -> HTMLResponse:
    start, end = CurveQuery(start=start, end=end).resolved().window
    tiers = []
    for tier in TIERS:
        estimate, chart, missing = data.tier_fit(engine, tier, metric, start, end)
        tiers.append({"tier": tier, "estimate": estimate, "chart": chart, "missing": missing})
    epoch = _epoch(engine, benchmark, threshold, exclude_reasoning)
    return page(
        request,
        "deflation.html",
        "deflation",
        tiers=tiers,
        metric=metric,
        start=start,
        end=end,
        benchmark=benchmark,
        threshold=threshold,
        exclude_reasoning=exclude_reasoning,
        benchmarks=data.benchmarks(engine),
        epoch=epoch,
    )


def _epoch(
    engine: Any, benchmark: str | None, threshold: float | None, exclude_reasoning: bool
) -> dict[str, Any] | None:
    if not benchmark or threshold is None:
        return None
    from api.scores import epoch_estimate

    try:
        result = epoch_estimate(engine, benchmark, threshold, exclude_reasoning=exclude_reasoning)
    except HTTPException as exc:
        return {"missing": str(exc.detail)}
    api = "/v1/deflation?" + data.query_string(
        benchmark=benchmark, threshold=threshold, exclude_reasoning=exclude_reasoning or None
    )
    chart = data.fit_chart(
        "deflation-epoch",
        f"{benchmark} >= {threshold}: cheapest models at introduction and fitted trend",
        result["models"],
        x="date",
        y="usd_per_mtok",
        api=api,
        count_key="models",
    )
    return {"estimate": result, "chart": chart, "missing": None}


@router.get("/ui/prices", response_class=HTMLResponse)
def prices(
    request: Request,
    engine: EngineDep,
    provider: str | None = None,
    model: str | None = None,
    tier: str | None = None,
    source: str | None = None,
    variant: str | None = None,
    include_free: bool = True,
    include_stale: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    if tier and tier not in TIERS:
        raise HTTPException(422, detail=f"tier: must be one of {', '.join(TIERS)} (got {tier!r})")
    filters = PriceFilter(
        provider or None,
        model or None,
        tier or None,
        source or None,
        variant or None,
        include_free,
        include_stale,
    )
    total, rows = current_prices(engine, filters, limit=PRICE_ROWS, offset=offset)
    # Say what the default leaves out: stale rows are hidden, never silently dropped.
    with_stale = replace(filters, include_stale=True)
    hidden_stale = 0 if include_stale else current_prices(engine, with_stale, limit=1)[0] - total
    for row in rows:
        inp, out = row["input_usd_per_mtok"], row["output_usd_per_mtok"]
        row["blended_usd_per_mtok"] = (
            BLEND.blend(inp, out) if inp is not None and out is not None else None
        )
        row["history_url"] = "/ui/prices/history?" + data.query_string(
            source=row["source"],
            provider=row["provider"],
            provider_model_id=row["provider_model_id"],
        )
    return page(
        request,
        "prices.html",
        "prices",
        filters=filters,
        rows=rows,
        total=total,
        hidden_stale=hidden_stale,
        show_stale="/ui/prices?" + data.query_string(**_price_params(with_stale)),
        offset=offset,
        tiers=TIERS,
        api="/v1/prices?" + data.query_string(**_price_params(filters)),
        pages=_pages(filters, offset, total),
    )


def _pages(filters: PriceFilter, offset: int, total: int) -> dict[str, str | None]:
    """Links to the previous and next page of the Prices table (same filters)."""

    def link(at: int) -> str:
        return "/ui/prices?" + data.query_string(**_price_params(filters), offset=at or None)

    return {
        "previous": link(max(0, offset - PRICE_ROWS)) if offset > 0 else None,
        "next": link(offset + PRICE_ROWS) if offset + PRICE_ROWS < total else None,
    }


def _price_params(filters: PriceFilter) -> dict[str, Any]:
    return {
        "provider": filters.provider,
        "model": filters.model,
        "tier": filters.tier,
        "source": filters.source,
        "variant": filters.variant,
        "include_free": None if filters.include_free else False,
        "include_stale": True if filters.include_stale else None,
    }


@router.get("/ui/prices/history", response_class=HTMLResponse)
def price_history(
    request: Request,
    engine: EngineDep,
    provider: str,
    provider_model_id: str,
    source: str | None = None,
) -> HTMLResponse:
    key = OfferingKey(provider, provider_model_id, None, source or None)
    rows = offering_history(engine, key)
    if not rows:
        raise HTTPException(404, detail="no offering matches those parameters")
    for row in rows:
        row["series"] = " ".join(
            str(row[k]) for k in ("source", "variant", "context_tier", "modality") if row[k]
        )
    traces = figures.series_by(
        rows, "series", x="valid_from", y="input_usd_per_mtok", primary=True, label="{} input"
    ) + figures.series_by(
        rows,
        "series",
        x="valid_from",
        y="output_usd_per_mtok",
        primary=False,
        dash="dot",
        label="{} output",
    )
    for trace in traces:
        trace["line"] = trace["line"] | {"shape": "hv"}
    api = "/v1/prices/history?" + data.query_string(
        provider=provider, provider_model_id=provider_model_id, source=source or None
    )
    chart = data.Chart(
        id="history",
        title=f"{provider} {provider_model_id}: price versions",
        figure=figures.figure(traces, "USD per M tokens"),
        api=api,
        count_key="items",
        rows=rows,
        value_key="input_usd_per_mtok",
    )
    return page(request, "history.html", "prices", key=key, main_chart=chart, rows=rows)


@router.get("/ui/gpus", response_class=HTMLResponse)
def gpus(
    request: Request,
    engine: EngineDep,
    window: Annotated[SeriesWindow, Depends()],
    gpu: str = data.H100,
) -> HTMLResponse:
    names = data.gpu_names(engine)
    if names and gpu not in names:
        raise HTTPException(422, detail=f"gpu: no rates for {gpu!r}; known: {', '.join(names)}")
    start = window.start or EARLIEST
    window = replace(window, start=start)
    chart = data.gpu_chart(engine, gpu, window)
    total, offers = current_gpu_rates(engine, GpuFilter(gpu=gpu), limit=1000)
    return page(
        request,
        "gpus.html",
        "gpus",
        gpu=gpu,
        gpus=names,
        window=window,
        main_chart=chart,
        offers=offers,
        total=total,
    )


@router.get("/ui/changes", response_class=HTMLResponse)
def changes(
    request: Request,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> HTMLResponse:
    rows = recent_changes(engine, limit=limit)
    return page(request, "changes.html", "changes", rows=rows, limit=limit)


@router.get("/ui/pipeline", response_class=HTMLResponse)
def pipeline(
    request: Request,
    engine: EngineDep,
    source: str | None = None,
) -> HTMLResponse:
    _, runs = pipeline_runs(engine, RunFilter(source or None), limit=100)
    for run in runs:
        run["flow_run_url"] = data.flow_run_url(run["flow_run_id"])
    return page(
        request,
        "pipeline.html",
        "pipeline",
        sources=data.sources(engine),
        runs=runs,
        source=source,
        prefect=data.prefect_ui(),
    )


@router.get("/ui/alerts", response_class=HTMLResponse)
def alerts(request: Request) -> HTMLResponse:
    return page(request, "alerts.html", "alerts", tiers=TIERS)
