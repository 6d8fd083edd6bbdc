"""``refresh-analytics``: recompute the precomputed cost curves (and the dashboard's
pages) after an ingest.

The curves are cached by ``api.curve_cache`` inside the API process, per data
version. This flow runs in another process, so it asks the running API for
every curve the dashboard and the README's examples request (``WARM_REQUESTS``:
each tier and all tiers at each interval, as JSON and as the dashboard page):
the API sees the change, applies it to its frames and recomputes these now
rather than on the first user request, and on later changes it recomputes
them before it publishes the new data version. An API that is not running is
logged and skipped, not an error: the curves are then computed on first
request.
"""

from __future__ import annotations

from typing import Any

import httpx
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import runtime

DASHBOARD_PAGES = ("/ui/overview", "/ui/curves", "/ui/deflation")
INTERVALS = ("month", "week", "day")  # the dashboard's interval choices


def warm_requests() -> list[tuple[str, dict[str, str]]]:
    """(path, query) of every curve the dashboard and the README's examples request."""
    from costcurve.catalog.models import TIERS

    requests: list[tuple[str, dict[str, str]]] = [(page, {}) for page in DASHBOARD_PAGES]
    for interval in INTERVALS:
        requests.append(("/ui/curves", {"interval": interval}))
        for tier in (None, *TIERS):
            params = {"interval": interval} | ({"tier": tier} if tier else {})
            requests.append(("/v1/cost-curve", params))
    requests += [("/v1/cost-curve", {"variant": "batch"})]
    requests += [("/v1/deflation", {"tier": tier}) for tier in TIERS]
    return requests


@task(
    name="warm-api-curves",
    cache_policy=NO_CACHE,
    timeout_seconds=600,
    retries=2,
    retry_delay_seconds=[5, 20],
)
def warm_api_curves(base_url: str) -> dict[str, Any]:
    """Request every warmed curve and page from the API so it recomputes them now."""
    logger = get_run_logger()
    try:
        httpx.get(f"{base_url}/health", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        logger.info("API at %s not reachable (%s); curves compute on first request", base_url, exc)
        return {"api": "unreachable"}
    statuses: dict[str, int] = {}
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for path, params in warm_requests():
            response = client.get(path, params=params)
            statuses[response.request.url.raw_path.decode()] = response.status_code
            if response.status_code >= 500:
                response.raise_for_status()
    logger.info("curves and pages recomputed by the API: %s", statuses)
    return {"api": "warmed", "status_by_request": statuses}


@flow(name="refresh-analytics", description="Recompute the precomputed cost curves.")
def refresh_analytics() -> dict[str, Any]:
    return warm_api_curves(runtime.api_internal_url())
