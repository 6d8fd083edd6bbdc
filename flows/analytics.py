"""``refresh-analytics``: recompute the precomputed cost curves (and the dashboard's
headline pages) after an ingest.

The curves are cached by ``api.curve_cache`` inside the API process, keyed by
the data version (the latest finished pipeline run). This flow runs in another
process, so it asks the running API for the headline curve of every tier: the
API sees the new data version, reloads the version tables and recomputes the
curves now rather than on the first user request. An API that is not running
is logged and skipped, not an error: the curves are then computed on first
request.
"""

from __future__ import annotations

from typing import Any

import httpx
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import runtime

DASHBOARD_PAGES = ("/ui/overview", "/ui/curves", "/ui/deflation")


@task(
    name="warm-api-curves",
    cache_policy=NO_CACHE,
    timeout_seconds=600,
    retries=2,
    retry_delay_seconds=[5, 20],
)
def warm_api_curves(base_url: str) -> dict[str, Any]:
    """Request each tier's cost curve from the API so it recomputes them now."""
    from costcurve.catalog.models import TIERS

    logger = get_run_logger()
    try:
        httpx.get(f"{base_url}/health", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        logger.info("API at %s not reachable (%s); curves compute on first request", base_url, exc)
        return {"api": "unreachable"}
    statuses = {}
    for tier in TIERS:
        response = httpx.get(f"{base_url}/v1/cost-curve", params={"tier": tier}, timeout=120)
        statuses[tier] = response.status_code
        if response.status_code >= 500:
            response.raise_for_status()
    # The dashboard's headline pages keep their own rows in the same cache.
    pages = {}
    for page in DASHBOARD_PAGES:
        response = httpx.get(f"{base_url}{page}", timeout=120)
        pages[page] = response.status_code
        if response.status_code >= 500:
            response.raise_for_status()
    logger.info("cost curves recomputed by the API: %s; dashboard pages: %s", statuses, pages)
    return {"api": "warmed", "status_by_tier": statuses, "status_by_page": pages}


@flow(name="refresh-analytics", description="Recompute the precomputed cost curves.")
def refresh_analytics() -> dict[str, Any]:
    return warm_api_curves(runtime.api_internal_url())
