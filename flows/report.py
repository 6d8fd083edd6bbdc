"""What a scrape run tells the people reviewing it in the Prefect UI.

Three kinds of artifact per run: a table of the prices that moved (old -> new,
percent, in columns narrow enough to read), a markdown summary (sources
ok/failed, counts, errors), and per curve the new prices feed its links with a
table of its last 12 monthly buckets (GPU rate views: a link). Artifact keys
are stable per flow, so the Artifacts page keeps each one's history across runs.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from flows.curve_artifact import LAST_BUCKETS, curve_markdown, fetch_points
from flows.runtime import api_base_url, api_internal_url
from flows.steps import SourceResult

MAX_TABLE_ROWS = 500  # the UI renders every row; more than this is unreadable anyway
MAX_GPU_LINKS = 12
FLOW_SLUG = {"llm_price": "scrape-llm-prices", "gpu_rate": "scrape-gpu-rates"}


def summary(results: list[SourceResult], skipped: list[str]) -> dict[str, Any]:
    """Per-run totals; the flow run's return value."""
    by_source: dict[str, list[SourceResult]] = {}
    for r in results:
        by_source.setdefault(r.source, []).append(r)
    ok = sorted(s for s, rs in by_source.items() if any(r.status == "succeeded" for r in rs))
    failed = {
        s: [r.error for r in rs if r.status == "failed"]
        for s, rs in sorted(by_source.items())
        if any(r.status == "failed" for r in rs)
    }
    totals = Counter[str]()
    for r in results:
        totals.update(
            observations=r.observations,
            new_versions=r.new_versions,
            closed_versions=r.closed_versions,
            unchanged=r.unchanged,
            skipped=r.skipped,
            price_changes=len({(c["source"], c["provider"], c["offering"]) for c in r.changes}),
        )
    return {
        "sources_ok": ok,
        "sources_failed": failed,
        "sources_skipped": skipped,
        "runs": sorted(r.run_id for r in results if r.run_id is not None),
        "ingested": sum(1 for r in results if r.status == "succeeded"),
        **{k: totals[k] for k in sorted(totals)},
    }


def change_table(results: list[SourceResult]) -> list[dict[str, Any]]:
    rows = [row for r in results for row in r.changes]
    return sorted(rows, key=lambda c: (c["at"], c["source"], c["provider"], c["offering"]))


def readable_changes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The change table in six short columns: Prefect's table artifact gives each column
    an equal share of the width and cuts off what does not fit (old -> new at 1400 px)."""
    return [
        {
            "offering": f"{r['provider']} {r['offering']}"
            + (f" ({r['detail']})" if r.get("detail") else ""),
            "source": r["source"],
            "price": r["price"],
            "old → new": f"{r['old'] or '–'} → {r['new'] or '–'}",
            "change": r["change_pct"] or "–",
            "at": r["at"],
        }
        for r in rows
    ]


def markdown(
    kind: str,
    results: list[SourceResult],
    skipped: list[str],
    links: list[tuple[str, str]] | None = None,
) -> str:
    s = summary(results, skipped)
    title = FLOW_SLUG.get(kind, kind)
    lines = [
        f"# {title}",
        "",
        f"**{len(s['sources_ok'])} sources ok, {len(s['sources_failed'])} failed**; "
        f"{s['observations']} observations: {s['new_versions']} new versions, "
        f"{s['closed_versions']} closed, {s['unchanged']} unchanged, {s['skipped']} skipped "
        f"(conflicting with recorded history); {s['price_changes']} offerings changed price.",
        "",
        "| source | read | status | pipeline run | observations | new | closed | unchanged |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        read = r.observed_at.date().isoformat() if r.observed_at else "-"
        if r.origin != "network":
            read += f" `{r.origin.rsplit('/', 1)[-1]}`"
        status = "ok" if r.status == "succeeded" else "**failed**"
        lines.append(
            f"| {r.source} | {read} | {status} | {r.run_id or '-'} | {r.observations} "
            f"| {r.new_versions} | {r.closed_versions} | {r.unchanged} |"
        )
    errors = [r for r in results if r.error]
    if errors:
        lines += ["", "## Errors", ""]
        lines += [f"- **{r.source}**: {_one_line(r.error or '')}" for r in errors]
    if skipped:
        lines += ["", "## Not scraped", ""] + [f"- {line}" for line in skipped]
    if links:
        lines += ["", "## API views that changed", ""] + [f"- [{t}]({u})" for u, t in links]
    return "\n".join(lines) + "\n"


def curve_links(results: list[SourceResult], base_url: str | None = None) -> list[tuple[str, str]]:
    """(url, text) of the API views that this run's new versions change.

    The cost curve of every tier with a new price; the rates of every GPU whose
    rate moved or was withdrawn (at most ``MAX_GPU_LINKS``); and the GPU rate
    listing when rates were only added.
    """
    from costcurve.catalog import load_models
    from costcurve.catalog.models import TIERS

    base = base_url or api_base_url()
    catalog = load_models()
    models = {m for r in results for m in r.affected_models}
    tiers = {catalog[m].tier for m in models if m in catalog}
    links = [
        (f"{base}/v1/cost-curve?{urlencode({'tier': t})}", f"cost curve, {t} tier")
        for t in TIERS
        if t in tiers
    ]
    gpus = sorted({g for r in results for g in r.affected_gpus})
    links += [
        (f"{base}/v1/gpu-rates?{urlencode({'gpu': g})}", f"GPU rates, {g}")
        for g in gpus[:MAX_GPU_LINKS]
    ]
    if len(gpus) > MAX_GPU_LINKS or (not gpus and any(r.gpu_rates_added for r in results)):
        links.append((f"{base}/v1/gpu-rates", "GPU rates, all"))
    return links


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _key(text: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    cleaned = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(part for part in cleaned.split("-") if part)


async def publish(kind: str, results: list[SourceResult], skipped: list[str]) -> None:
    from prefect.artifacts import (
        acreate_link_artifact,
        acreate_markdown_artifact,
        acreate_table_artifact,
    )

    flow_slug = FLOW_SLUG.get(kind, kind)
    rows = change_table(results)
    shown = rows[:MAX_TABLE_ROWS]
    await acreate_table_artifact(
        table=readable_changes(shown)
        or [{"source": "-", "note": "no price changed in this run (new offerings aside)"}],
        key=f"{flow_slug}-price-changes",
        description=(
            f"Prices that moved in this run: {len(rows)} field changes"
            + (f", first {MAX_TABLE_ROWS} shown" if len(rows) > len(shown) else "")
            + ". New offerings and withdrawals are counted in the summary."
        ),
    )
    links = curve_links(results)
    await acreate_markdown_artifact(
        markdown=markdown(kind, results, skipped, links),
        key=f"{flow_slug}-summary",
        description="Sources ok/failed, counts and errors of this run",
    )
    curves = [(u, t) for u, t in links if "/v1/cost-curve" in u]
    internal = api_internal_url()
    points = await asyncio.gather(*(fetch_points(internal, u) for u, _ in curves))
    await asyncio.gather(
        *(
            acreate_markdown_artifact(
                markdown=curve_markdown(text, url, rows),
                key=_key(text),
                description=f"A cost curve that changed with this {flow_slug} run: "
                f"its last {LAST_BUCKETS} months",
            )
            for (url, text), rows in zip(curves, points, strict=True)
        ),
        *(
            acreate_link_artifact(
                link=url,
                link_text=text,
                key=_key(text),
                description=f"An API view that changed with this {flow_slug} run",
            )
            for url, text in links
            if (url, text) not in curves
        ),
    )
