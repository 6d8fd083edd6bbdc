"""The work of one scrape, as plain functions: fetch, parse, persist.

The Prefect tasks in ``flows/tasks.py`` are thin wrappers around these, so the
steps are tested without a Prefect server. Every attempt leaves a
``pipeline_run`` row linked to the flow run, including a failed fetch or parse
(which changes no price).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from costcurve.core.observations import Observation
from db.ingest import PRICE_FIELDS, PriceChange
from db.ingest_kinds import same_values
from db.pipeline import RunSpec
from flows.fetchers import Snapshot


@dataclass
class SourceResult:
    source: str
    status: str  # succeeded | failed
    run_id: int | None
    observed_at: datetime | None
    origin: str
    observations: int = 0
    new_versions: int = 0
    closed_versions: int = 0
    unchanged: int = 0
    skipped: int = 0
    error: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    new_offerings: int = 0
    withdrawn: int = 0
    affected_models: set[str] = field(default_factory=set)
    affected_gpus: set[str] = field(default_factory=set)
    gpu_rates_added: int = 0


def parse_snapshot(snapshot: Snapshot) -> list[Observation]:
    """Pure: the source's parser with model resolution; raises ParseError."""
    from scrapers.registry import parse_source

    return parse_source(snapshot.source, snapshot.raw, observed_at=snapshot.observed_at)


def record_failure(
    engine: Engine,
    source: str,
    error: BaseException,
    snapshot: Snapshot | None,
    spec: RunSpec,
    *,
    origin: str,
) -> SourceResult:
    """A fetch or parse that failed for good: a failed pipeline run with the error.

    A response that was fetched but did not parse is archived all the same, so
    it can be re-parsed once the parser is fixed. Nothing is versioned.
    """
    from db.pipeline import recorded_run
    from scrapers.registry import get_source

    step = "parse" if snapshot is not None else "fetch"
    message = str(error) if step == "parse" else f"{type(error).__name__}: {error}"
    error_text = f"{step} failed: {message}"
    with recorded_run(engine, get_source(source).SOURCE, spec) as run:
        if snapshot is not None:
            run.archive(snapshot.raw, url=snapshot.url, fetched_at=snapshot.observed_at)
        run.fail(error_text)
    return SourceResult(source, "failed", run.run_id, spec.observed_at, origin, error=error_text)


def persist_snapshot(
    engine: Engine, snapshot: Snapshot, observations: list[Observation], spec: RunSpec
) -> SourceResult:
    """Archive the raw response and version its observations (db/ingest.py rules)."""
    from db.pipeline import IngestOptions, recorded_run, version_observations
    from scrapers.registry import get_source

    info = get_source(snapshot.source).SOURCE
    with recorded_run(engine, info, spec) as run:
        run.archive(snapshot.raw, url=snapshot.url, fetched_at=snapshot.observed_at)
        options = IngestOptions(listing_complete=info.listing_complete)
        outcome = version_observations(run, observations, options)
    result = outcome.result
    report = SourceResult(
        snapshot.source,
        "succeeded",
        outcome.run_id,
        snapshot.observed_at,
        snapshot.origin,
        observations=result.observations,
        new_versions=result.new_versions,
        closed_versions=result.closed_versions,
        unchanged=result.unchanged,
        skipped=result.skipped,
    )
    for change in result.changes:
        _account(report, change)
    return report


def _account(report: SourceResult, change: PriceChange) -> None:
    if change.old is None:
        report.new_offerings += 1
    elif change.new is None:
        report.withdrawn += 1
    else:
        report.changes.extend(change_rows(change))
    if change.kind == "llm_price" and change.key.get("model_slug"):
        report.affected_models.add(str(change.key["model_slug"]))
    elif change.kind == "gpu_rate" and change.key.get("gpu"):
        # A GPU's first rates are not news; a rate that moved or went is.
        if change.old is not None:
            report.affected_gpus.add(str(change.key["gpu"]))
        report.gpu_rates_added += change.old is None


def change_rows(change: PriceChange) -> list[dict[str, Any]]:
    """One table row per price field that moved: old -> new and the percent change."""
    assert change.old is not None
    assert change.new is not None
    key = change.key
    offering = key.get("provider_model_id") or key.get("gpu")
    if change.kind == "gpu_rate":
        detail = [key.get("pricing"), key.get("region"), key.get("instance_type")]
    else:
        detail = [key.get("variant"), key.get("context_tier"), key.get("modality")]
    rows = []
    for name in PRICE_FIELDS.get(change.kind, ()):
        old, new = change.old.get(name), change.new.get(name)
        if same_values({name: old}, {name: new}):
            continue  # closer than the published precision: not a change
        rows.append(
            {
                "source": key.get("source"),
                "provider": key.get("provider"),
                "offering": offering,
                "detail": " ".join(str(d) for d in detail if d not in (None, "", "text")),
                "price": name,
                "old": _money(old),
                "new": _money(new),
                "change_pct": percent_change(old, new),
                "at": change.at.date().isoformat(),
            }
        )
    return rows


def percent_change(old: Any, new: Any) -> str | None:
    # Flags (``free``) and counts change too, but have no percent change.
    if not isinstance(old, Decimal | int) or not isinstance(new, Decimal | int):
        return None
    if isinstance(old, bool) or isinstance(new, bool) or old == 0:
        return None
    pct = (Decimal(new) - Decimal(old)) / Decimal(old) * 100
    return f"{pct:+.1f}%"


def _money(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    return format(Decimal(value).normalize(), "f")
