"""What each dashboard page shows, read through the functions the JSON routes use.

Every function here returns plain rows (and figure specs) for one page; SQL and
analytics live in ``api.v1_*`` / ``db`` / ``costcurve.analytics``, never here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import polars as pl
from fastapi import HTTPException
from sqlalchemy import Engine

from api import curve_cache
from api.curve_query import EARLIEST, CurveQuery
from api.ui import figures
from api.v1_curves import curve_frame, tier_deflation
from api.v1_gpus import SeriesWindow, gpu_series
from costcurve.analytics.deflation import trend_band
from costcurve.analytics.money import to_float
from costcurve.catalog.models import TIERS
from costcurve.config import get_settings
from db.run_status import last_runs

H100 = "H100-SXM-80GB"


@dataclass(frozen=True)
class Chart:
    """A chart, the API route whose rows it draws, and its table equivalent."""

    id: str
    title: str
    figure: figures.Figure
    api: str
    count_key: str  # the JSON field of ``api`` holding one row per primary point
    rows: list[dict[str, Any]]
    value_key: str = "min"  # the field of those rows a primary point plots (null: no point)


def today() -> date:
    return datetime.now(UTC).date()


def query_string(**params: Any) -> str:
    """URL query of the non-empty parameters (booleans as true/false)."""
    clean = {
        k: ("true" if v else "false") if isinstance(v, bool) else v
        for k, v in params.items()
        if v is not None and v != ""
    }
    return urlencode(clean, doseq=True)


def curve_api_params(query: CurveQuery) -> dict[str, Any]:
    start, end = query.window
    return {
        "tier": query.tier,
        "metric": query.metric,
        "interval": query.interval,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "include_self_hosted": query.include_self_hosted or None,
        "include_free": query.include_free or None,
        "include_corrections": None if query.include_corrections else False,
        "provider": list(query.provider) if query.provider else None,
        "variant": list(query.variant) if query.variant else None,
    }


def curve_rows(engine: Engine, query: CurveQuery) -> list[dict[str, Any]]:
    """The rows ``/v1/cost-curve`` returns for a resolved query (memoized per data version)."""
    rows: list[dict[str, Any]] = curve_cache.memo(
        engine, ("ui-curve", query), lambda: curve_frame(engine, query).to_dicts()
    )
    return rows


def tier_curve_charts(engine: Engine, query: CurveQuery) -> list[Chart]:
    charts = []
    for tier in TIERS if query.tier is None else (query.tier,):
        tier_query = replace(query, tier=tier)
        rows = curve_rows(engine, tier_query)
        charts.append(
            Chart(
                id=f"curve-{tier}",
                title=f"{tier} tier: {query.metric} $/M tokens per {query.interval}",
                figure=figures.figure(
                    figures.curve_band(rows), f"USD per M tokens ({query.metric})"
                ),
                api="/v1/cost-curve?" + query_string(**curve_api_params(tier_query)),
                count_key="points",
                rows=rows,
            )
        )
    return charts


def gpu_chart(engine: Engine, gpu: str, window: SeriesWindow, *, height: int = 360) -> Chart:
    rows = gpu_series(engine, gpu, window)
    traces = figures.series_by(
        rows, "pricing", x="as_of", y="min", primary=True, label="{} min"
    ) + figures.series_by(
        rows, "pricing", x="as_of", y="median", primary=False, dash="dot", label="{} median"
    )
    params = {
        "gpu": gpu,
        "interval": window.interval,
        "from": window.start.isoformat() if window.start else None,
        "to": window.end.isoformat() if window.end else None,
    }
    return Chart(
        id=f"gpu-{gpu}",
        title=f"{gpu}: USD per GPU-hour per {window.interval}, min and median by pricing",
        figure=figures.figure(traces, "USD per GPU-hour", log=False, height=height),
        api="/v1/gpu-rates/series?" + query_string(**params),
        count_key="items",
        rows=rows,
    )


def fit_chart(
    chart_id: str,
    title: str,
    points: list[dict[str, Any]],
    *,
    x: str,
    y: str,
    api: str,
    count_key: str = "points",
) -> Chart:
    frame = pl.DataFrame(
        {"date": [p[x] for p in points], "price": [to_float(p[y]) for p in points]}
    )
    band = trend_band(frame).to_dict(as_series=False)
    xs = [p[x] for p in points]
    ys = [to_float(p[y]) for p in points]
    traces = figures.fit_band(xs, ys, band, "fitted points")
    rows = [
        {"date": p[x], "price": p[y], "fitted": f, "lo": lo, "hi": hi}
        | ({"model": p["model"]} if "model" in p else {})
        for p, f, lo, hi in zip(points, band["fitted"], band["lo"], band["hi"], strict=True)
    ]
    return Chart(
        id=chart_id,
        title=title,
        figure=figures.figure(traces, "USD per M tokens"),
        api=api,
        count_key=count_key,
        rows=rows,
        value_key=y,
    )


def tier_fit(
    engine: Engine, tier: str, metric: str, start: date, end: date
) -> tuple[dict[str, Any] | None, Chart | None, str | None]:
    """(estimate, chart, reason it is missing) of one tier's deflation; the estimate is
    memoized per data version, like the curves it is fitted on."""

    def compute() -> dict[str, Any] | str:
        try:
            query = CurveQuery(tier=tier, metric=metric, start=start, end=end)  # type: ignore[arg-type]
            return tier_deflation(engine, query.resolved())
        except HTTPException as exc:
            return str(exc.detail)

    estimate: dict[str, Any] | str = curve_cache.memo(
        engine, ("ui-tier-fit", tier, metric, start, end), compute
    )
    if isinstance(estimate, str):
        return None, None, estimate
    api = "/v1/deflation?" + query_string(
        tier=tier, metric=metric, **{"from": start.isoformat(), "to": end.isoformat()}
    )
    chart = fit_chart(
        f"deflation-{tier}",
        f"{tier} tier: monthly cheapest {metric} price and fitted trend",
        estimate["points"],
        x="date",
        y="price",
        api=api,
    )
    return estimate, chart, None


def benchmarks(engine: Engine) -> list[str]:
    """The benchmarks with imported scores (read each time: a scores import is no pipeline
    run, so the curve cache would not see it)."""
    from db.scores import benchmark_names

    return benchmark_names(engine)


def overview(engine: Engine) -> dict[str, Any]:
    now = today()
    query = CurveQuery(interval="month").resolved(now)
    all_tiers = curve_rows(engine, query)
    frontier = [r for r in all_tiers if r["tier"] == "frontier"]
    latest = frontier[-1] if frontier else None
    year_ago = _bucket_at(frontier, now - timedelta(days=365))
    change = (
        float(latest["min"]) / float(year_ago["min"]) - 1.0
        if latest and year_ago and year_ago["min"]
        else None
    )
    estimate, _, deflation_missing = tier_fit(engine, "frontier", "blended", EARLIEST, now)
    h100 = gpu_chart(engine, H100, SeriesWindow(interval="week"), height=260)
    trend = Chart(
        id="overview-tiers",
        title="Cheapest blended $/M tokens per tier, monthly",
        figure=figures.figure(
            figures.series_by(all_tiers, "tier", x="as_of", y="min", primary=True),
            "USD per M tokens",
            height=260,
        ),
        api="/v1/cost-curve?" + query_string(**curve_api_params(query)),
        count_key="points",
        rows=all_tiers,
    )
    return {
        "latest": latest,
        "year_ago": year_ago,
        "change": change,
        "estimate": estimate,
        "deflation_missing": deflation_missing,
        "h100_today": _latest_by(h100.rows, "pricing"),
        "charts": [trend, h100],
        "sources": sources(engine),
    }


def _bucket_at(rows: list[dict[str, Any]], day: date) -> dict[str, Any] | None:
    """The curve row whose bucket holds ``day`` (none before the curve starts)."""
    at = datetime(day.year, day.month, day.day, tzinfo=UTC)
    before = [r for r in rows if r["bucket_start"] <= at]
    return before[-1] if before and before[-1]["as_of"] > at else None


def _latest_by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row[key] not in latest or row["as_of"] > latest[row[key]]["as_of"]:
            latest[row[key]] = row
    return latest


def prefect_ui() -> str:
    settings = get_settings()
    if settings.prefect_api_url:
        return settings.prefect_api_url.rstrip("/").removesuffix("/api")
    return f"http://{settings.prefect_host}:{settings.prefect_port}"


def flow_run_url(flow_run_id: object | None) -> str | None:
    """The Prefect UI page of a flow run (runs started outside Prefect have none)."""
    return f"{prefect_ui()}/runs/flow-run/{flow_run_id}" if flow_run_id else None


def sources(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = last_runs(conn)
    for row in rows:
        row["flow_run_url"] = flow_run_url(row["flow_run_id"])
    return rows


def variants(engine: Engine) -> list[str]:
    """The price variants stored (standard first): the curves' variant choices."""
    _, frame, _ = curve_cache.frames(engine)
    found = set(frame["variant"].unique().to_list()) if not frame.is_empty() else set()
    return ["standard", *sorted(found - {"standard"})]


def gpu_names(engine: Engine) -> list[str]:
    _, _, frame = curve_cache.frames(engine)
    return sorted(frame["gpu"].unique().to_list()) if not frame.is_empty() else []
