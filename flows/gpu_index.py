"""``publish-gpu-index``: store the GPU index prints of recently closed periods.

Hourly, after the GPU-rate scrape: each run recomputes the daily and hourly
prints of the last ``days`` days from the versions as believed now and stores
each one that is new or differs from its latest revision (a late or corrected
rate revises a recent print as a new revision; nothing is updated in place,
docs/gpu-index.md). Older prints stay as published; `costcurve gpu-index
publish --from D` recomputes any window by hand (after a backfill). The
counts are the run's return value and a markdown artifact in the Prefect UI.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import runtime

DEFAULT_DAYS = 3
ARTIFACT_KEY = "gpu-index-publish"


def _window(days: int, start: date | None, end: date | None) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    lo = datetime.combine(start, datetime.min.time(), UTC) if start else now - timedelta(days)
    hi = datetime.combine(end, datetime.min.time(), UTC) if end else now
    if days < 1 or lo >= hi:
        raise ValueError(f"an empty window: days={days}, start={start}, end={end}")
    return lo, hi


@task(name="publish-prints", cache_policy=NO_CACHE, timeout_seconds=1800)
def publish_task(lo: datetime, hi: datetime) -> dict[str, Any]:
    from costcurve.indexes.gpu import publish

    result = publish(runtime.engine(), start=lo, end=hi)
    return {
        "computed_at": result.computed_at.isoformat(),
        "from": lo.isoformat(),
        "to": hi.isoformat(),
        "computed": result.computed,
        "stored": result.stored,
        "revised": result.revised,
        "by_interval": result.by_interval,
    }


def summary_markdown(result: dict[str, Any]) -> str:
    intervals = ", ".join(f"{n} {k}" for k, n in sorted(result["by_interval"].items()))
    return "\n".join(
        [
            "# GPU index prints",
            "",
            f"Closed periods from {result['from']} to {result['to']} "
            f"(computed at {result['computed_at']}).",
            "",
            "| computed | stored (new or changed) | of which revisions |",
            "|---|---|---|",
            f"| {result['computed']} ({intervals or 'none'}) | {result['stored']} "
            f"| {result['revised']} |",
            "",
            "Series: `/v1/gpu-index?gpu=...`; method: docs/gpu-index.md.",
        ]
    )


@flow(
    name="publish-gpu-index",
    description="Store the GPU index prints of recently closed periods (new or revised).",
)
def publish_gpu_index(
    days: int = DEFAULT_DAYS, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    from prefect.artifacts import create_markdown_artifact

    lo, hi = _window(days, start, end)
    result = publish_task(lo, hi)
    create_markdown_artifact(
        markdown=summary_markdown(result),
        key=ARTIFACT_KEY,
        description="GPU index prints computed and stored by this run",
    )
    get_run_logger().info(
        "GPU index: %d prints computed, %d stored (%d revisions)",
        result["computed"],
        result["stored"],
        result["revised"],
    )
    return result
