"""``backfill``: version a price history dataset, one deployment run per dataset.

``dataset`` is one of ``db.backfill.DATASET_NAMES`` (``openrouterlist``,
``genai-prices``, ``litellm``) or ``reference`` (the curated
``catalog/reference_*.csv``). The document is fetched from its upstream URL
unless ``files`` names local copies (for ``litellm``: dated snapshot files or a
folder of them, ingested oldest first). Each load is a pipeline run linked to
this flow run, exactly as ``costcurve backfill`` records it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows import runtime
from flows.analytics import refresh_analytics
from flows.evaluate import evaluate_alerts

REFERENCE = "reference"


@task(
    name="fetch-dataset",
    task_run_name="fetch-dataset-{dataset}",
    # No task retries: scrapers.http retries each request (one retry layer).
    timeout_seconds=600,
    cache_policy=NO_CACHE,
)
def fetch_dataset(dataset: str) -> bytes:
    """The dataset's upstream document (network only)."""
    from scrapers.history import DATASETS
    from scrapers.http import make_client
    from scrapers.litellm import fetch as fetch_litellm

    fetch = DATASETS[dataset].fetch if dataset in DATASETS else fetch_litellm
    with make_client() as client:
        return fetch(client)


@task(
    name="load-dataset", task_run_name="load-{dataset}", cache_policy=NO_CACHE, timeout_seconds=1800
)
def load_dataset(dataset: str, raw: bytes | None, files: list[str]) -> list[dict[str, Any]]:
    """Parse and version; one pipeline run per document."""
    from db.backfill import LITELLM, backfill, backfill_litellm_files, load_reference_history

    engine, run_id = runtime.engine(), runtime.flow_run_id()
    if dataset == REFERENCE:
        outcomes = [load_reference_history(engine, trigger="flow", flow_run_id=run_id)]
    elif dataset == LITELLM and files:
        outcomes = backfill_litellm_files(
            engine, [Path(f) for f in files], trigger="flow", flow_run_id=run_id
        )
    else:
        if raw is None:
            raw = Path(files[0]).read_bytes()
        outcomes = [backfill(engine, dataset, raw, trigger="flow", flow_run_id=run_id)]
    return [
        {
            "run_id": o.run_id,
            "rows": o.result.observations,
            "new_versions": o.result.new_versions,
            "closed_versions": o.result.closed_versions,
            "unchanged": o.result.unchanged,
            "skipped": o.result.skipped,
        }
        for o in outcomes
    ]


def _check(dataset: str, files: list[str]) -> None:
    from db.backfill import DATASET_NAMES, LITELLM

    known = (*DATASET_NAMES, REFERENCE)
    if dataset not in known:
        raise ValueError(f"unknown dataset {dataset!r}; known datasets: {', '.join(known)}")
    if dataset == REFERENCE and files:
        raise ValueError("reference reads catalog/reference_*.csv; it takes no files")
    if dataset not in (LITELLM, REFERENCE) and len(files) > 1:
        raise ValueError(f"{dataset} is one document; give one file")
    missing = [f for f in files if not Path(f).exists()]
    if missing:
        raise ValueError(f"not found: {', '.join(missing)}")


def _markdown(dataset: str, runs: list[dict[str, Any]], read_from: str) -> str:
    lines = [f"# backfill {dataset}", "", f"read from {read_from}", ""]
    lines += ["| pipeline run | rows | new | closed | unchanged | skipped |"]
    lines += ["|---|---|---|---|---|---|"]
    lines += [
        f"| {r['run_id']} | {r['rows']} | {r['new_versions']} | {r['closed_versions']} "
        f"| {r['unchanged']} | {r['skipped']} |"
        for r in runs
    ]
    skipped = sum(r["skipped"] for r in runs)
    if skipped:
        lines += ["", f"**{skipped} rows contradict recorded history and were skipped.**"]
    return "\n".join(lines) + "\n"


@flow(name="backfill", description="Version a price history dataset (or the curated reference).")
def backfill(dataset: str, files: list[str] | None = None) -> dict[str, Any]:
    """Load one history dataset.

    Args:
        dataset: openrouterlist, genai-prices, litellm or reference.
        files: local copies to read instead of the upstream URL.
    """
    files = list(files or [])
    _check(dataset, files)
    upstream = not files and dataset != REFERENCE
    raw = fetch_dataset(dataset) if upstream else None
    runs = load_dataset(dataset, raw, files)
    counts = ("rows", "new_versions", "closed_versions", "unchanged", "skipped")
    totals = {k: sum(r[k] for r in runs) for k in counts}
    create_markdown_artifact(
        _markdown(dataset, runs, "upstream" if upstream else ", ".join(files) or "the catalog"),
        key=f"backfill-{dataset}",
        description="Backfill summary",
    )
    get_run_logger().info("backfill %s: %s", dataset, totals)
    evaluate_alerts()
    refresh_analytics()
    return {"dataset": dataset, "runs": [r["run_id"] for r in runs], **totals}
