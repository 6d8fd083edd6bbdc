"""Backfill: version years of history from the history datasets and the curated reference.

Three ways in, each one pipeline run (or one per file) like a scrape, so the
trail is the same (``pipeline_run``, archived raw bytes, per-run counts):

* :func:`backfill` parses one history dataset (``scrapers.history``:
  ``openrouterlist``, ``genai-prices``) and versions its dated prices under
  a source of kind ``dataset`` named after it. All instants of a dataset go
  into one transaction, applied in time order by ``db.ingest``; each version
  keeps the item's ``change_kind``. A dataset is never a complete listing of
  anything, so nothing is closed for being absent; the one exception is an
  offering the dataset itself marks as withdrawn (``HistoryItem.closes_at``),
  whose open version is closed at that instant in the same transaction.
  ``backfill(engine, "litellm", raw)`` ingests one LiteLLM snapshot.
* :func:`backfill_litellm_files` ingests dated LiteLLM snapshot files in date
  order with the ordinary ``litellm`` source, so successive files become
  successive observations (and a model missing from a later file is
  withdrawn, as LiteLLM's listing is complete).
* :func:`load_reference_history` versions ``catalog/reference_*.csv`` under
  the source ``reference``.

All three are idempotent: a second import of the same data opens no version.
An observation that contradicts recorded history splits it and the
contradicted version is kept as superseded (``IngestResult.superseded``);
one whose stated end has already passed is skipped and counted in
``IngestResult.skipped``, which the CLI prints.

Withdrawals and last sightings are also logged (``db.ingest.log_dataset_marks``),
so a later rebuild of the offering (an out-of-order arrival) keeps them.
LiteLLM files older than snapshots already recorded are versioned by the
same set-based rule as any late arrival (README "Versioning").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP
from sqlalchemy.types import Text

from costcurve.catalog.reference import (
    GPU_RATES_PATH,
    PRICES_PATH,
    ReferencePrice,
    load_reference_gpu_rates,
    load_reference_prices,
)
from costcurve.catalog.reference import (
    SOURCE as REFERENCE,
)
from costcurve.core.observations import Observation, date_from_filename, utc
from db.ingest import IngestResult, PriceChange, ingest, log_dataset_marks
from db.pipeline import (
    IngestOptions,
    RecordedRun,
    RunOutcome,
    RunSpec,
    SourceRow,
    ingest_counts,
    ingest_observations,
    ingest_raw,
    recorded_run,
)
from scrapers.history import DATASETS, HistoryItem

LITELLM = "litellm"
# Everything `costcurve backfill` accepts besides "reference".
DATASET_NAMES: tuple[str, ...] = (*DATASETS, LITELLM)

__all__ = [
    "DATASET_NAMES",
    "backfill",
    "backfill_litellm_files",
    "litellm_files",
    "load_reference_history",
    "reference_observations",
]


def backfill(
    engine: Engine,
    dataset: str,
    raw: bytes,
    *,
    trigger: str = "cli",
    flow_run_id: uuid.UUID | None = None,
    observed_at: datetime | None = None,
) -> RunOutcome:
    """Archive, parse and version one history dataset document.

    ``observed_at`` is when ``raw`` was fetched (default: now); datasets whose
    points carry their own dates ignore it. A ParseError fails the run only.
    """
    fetched_at = (observed_at or datetime.now(UTC)).astimezone(UTC)
    spec = RunSpec(trigger, flow_run_id, fetched_at)
    if dataset == LITELLM:
        return ingest_raw(engine, LITELLM, raw, observed_at=fetched_at, spec=spec)
    try:
        module = DATASETS[dataset]
    except KeyError:
        known = ", ".join(DATASET_NAMES)
        raise KeyError(f"unknown dataset {dataset!r}; known datasets: {known}") from None
    with recorded_run(engine, SourceRow(module.NAME, "dataset", module.URL), spec) as run:
        run.archive(raw, url=module.URL, fetched_at=fetched_at, content_type="application/json")
        items = module.parse(raw, observed_at=fetched_at)
        return _ingest_items(run, items)


def _ingest_items(run: RecordedRun, items: Sequence[HistoryItem]) -> RunOutcome:
    """Version dated history items, and close those that end, in the run's transaction."""
    recorded_at = datetime.now(UTC)

    def work(conn: Connection) -> IngestResult:
        result = ingest(
            conn,
            run.source,
            [item.price for item in items],
            listing_complete=False,
            run_id=run.run_id,
            change_kind=[item.change_kind for item in items],
            recorded_at=recorded_at,
        )
        _close_at(conn, run.source, [i for i in items if i.closes_at], recorded_at, result)
        _seen_through(conn, run.source, [i for i in items if i.seen_through])
        marks = [(i.price, i.closes_at, True) for i in items if i.closes_at]
        marks += [(i.price, i.seen_through, False) for i in items if i.seen_through]
        log_dataset_marks(conn, run.source, marks, run_id=run.run_id, recorded_at=recorded_at)
        return result

    result = run.commit(work, ingest_counts)
    return RunOutcome(run.run_id, result, run.snapshot_sha256)


_CLOSE_SQL = text(
    """
    UPDATE llm_price_version v
    SET valid_to = c.at, closed_recorded_at = :recorded_at
    FROM llm_offering o
    JOIN unnest(:provider, :model_id, :variant, :tier, :modality, :at)
         AS c(provider, model_id, variant, tier, modality, at)
      ON o.provider = c.provider AND o.provider_model_id = c.model_id
     AND o.variant = c.variant AND o.context_tier IS NOT DISTINCT FROM c.tier
     AND o.modality = c.modality
    WHERE o.source = :source AND v.offering_id = o.id
      AND v.valid_to IS NULL AND v.valid_from < c.at
    RETURNING v.id, o.id, o.provider, o.provider_model_id, o.variant, o.context_tier,
              o.modality, c.at
    """
).bindparams(
    *(bindparam(n, type_=ARRAY(Text)) for n in ("provider", "model_id", "variant", "tier")),
    bindparam("modality", type_=ARRAY(Text)),
    bindparam("at", type_=ARRAY(TIMESTAMP(timezone=True))),
)


def _close_at(
    conn: Connection,
    source: str,
    items: Sequence[HistoryItem],
    recorded_at: datetime,
    result: IngestResult,
) -> None:
    """Close the open version of each withdrawn offering at its ``closes_at`` (once)."""
    if not items:
        return
    prices = [i.price for i in items]
    rows = conn.execute(
        _CLOSE_SQL,
        {
            "source": source,
            "recorded_at": recorded_at,
            "provider": [p.provider for p in prices],
            "model_id": [p.provider_model_id for p in prices],
            "variant": [p.variant for p in prices],
            "tier": [p.context_tier for p in prices],
            "modality": [p.modality for p in prices],
            "at": [i.closes_at for i in items],
        },
    ).all()
    result.closed_versions += len(rows)
    for version_id, offering_id, provider, model_id, variant, tier, modality, at in rows:
        key = {
            "source": source,
            "provider": provider,
            "provider_model_id": model_id,
            "variant": variant,
            "context_tier": tier,
            "modality": modality,
        }
        result.changes.append(
            PriceChange("llm_price", offering_id, key, version_id, None, None, None, at)
        )


_SEEN_SQL = text(
    """
    UPDATE llm_price_version v
    SET last_seen_at = GREATEST(v.last_seen_at, c.seen)
    FROM llm_offering o
    JOIN unnest(:provider, :model_id, :variant, :tier, :modality, :seen)
         AS c(provider, model_id, variant, tier, modality, seen)
      ON o.provider = c.provider AND o.provider_model_id = c.model_id
     AND o.variant = c.variant AND o.context_tier IS NOT DISTINCT FROM c.tier
     AND o.modality = c.modality
    WHERE o.source = :source AND v.offering_id = o.id
      AND v.valid_from <= c.seen AND (v.valid_to IS NULL OR v.valid_to > c.seen)
    """
).bindparams(
    *(bindparam(n, type_=ARRAY(Text)) for n in ("provider", "model_id", "variant", "tier")),
    bindparam("modality", type_=ARRAY(Text)),
    bindparam("seen", type_=ARRAY(TIMESTAMP(timezone=True))),
)


def _seen_through(conn: Connection, source: str, items: Sequence[HistoryItem]) -> None:
    """A dataset that still lists a price at ``seen_through`` saw it then (freshness)."""
    if not items:
        return
    prices = [i.price for i in items]
    conn.execute(
        _SEEN_SQL,
        {
            "source": source,
            "provider": [p.provider for p in prices],
            "model_id": [p.provider_model_id for p in prices],
            "variant": [p.variant for p in prices],
            "tier": [p.context_tier for p in prices],
            "modality": [p.modality for p in prices],
            "seen": [i.seen_through for i in items],
        },
    )


def litellm_files(paths: Iterable[Path]) -> list[Path]:
    """The snapshot files among ``paths`` (a folder stands for its ``*.json``), oldest first.

    Each file needs its capture date in its name; two files of one date would
    be two prices at one instant, so that is refused too.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.glob("*.json") if p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path} is neither a file nor a folder")
    dated: dict[Path, Any] = {}
    for path in files:
        day = date_from_filename(path.name)
        if day is None:
            raise ValueError(f"{path.name}: no capture date (YYYY-MM-DD) in the file name")
        dated[path] = day
    by_day: dict[Any, Path] = {}
    for path, day in dated.items():
        if day in by_day and by_day[day].resolve() != path.resolve():
            raise ValueError(f"{by_day[day].name} and {path.name} are both dated {day}")
        by_day[day] = path
    return [by_day[day] for day in sorted(by_day)]


def backfill_litellm_files(
    engine: Engine,
    paths: Iterable[Path],
    *,
    trigger: str = "cli",
    flow_run_id: uuid.UUID | None = None,
) -> list[RunOutcome]:
    """Ingest dated LiteLLM snapshots oldest first, one run per file (see :func:`litellm_files`)."""
    return [
        ingest_raw(
            engine,
            LITELLM,
            path.read_bytes(),
            observed_at=utc(date_from_filename(path.name)),  # type: ignore[arg-type]
            spec=RunSpec(trigger, flow_run_id, utc(date_from_filename(path.name))),  # type: ignore[arg-type]
            content_type="application/json",
        )
        for path in litellm_files(paths)
    ]


_PRICE_FIELDS = ("input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok")


def _restatements_filled(prices: list[ReferencePrice]) -> list[ReferencePrice]:
    """Fill the empty cells of rows that only restate an offering's previous price.

    An empty cell means the row does not state that price. A row whose stated
    prices all equal the offering's previous row (a seed quoting part of a
    list price) takes the rest from that row, so it changes nothing; a row
    that changes a stated price is taken as written, unknown cells empty.
    """
    out: list[ReferencePrice] = []
    last: dict[tuple[Any, ...], ReferencePrice] = {}
    for ref in sorted(prices, key=lambda r: r.price.observed_at):
        key = ref.price.offering_key()
        previous = last.get(key)
        if previous is not None:
            stated = {f: getattr(ref.price, f) for f in _PRICE_FIELDS}
            if all(v is None or v == getattr(previous.price, f) for f, v in stated.items()):
                fill = {f: getattr(previous.price, f) for f, v in stated.items() if v is None}
                ref = ReferencePrice(ref.price.model_copy(update=fill), ref.change_kind)
        last[key] = ref
        out.append(ref)
    return out


def reference_observations(
    prices_path: Path = PRICES_PATH, gpu_rates_path: Path = GPU_RATES_PATH
) -> tuple[list[Observation], list[str]]:
    """The curated reference rows as observations, with one change kind each."""
    prices = _restatements_filled(load_reference_prices(prices_path))
    rates = load_reference_gpu_rates(gpu_rates_path)
    observations: list[Observation] = [r.price for r in prices]
    observations += rates
    kinds: list[str] = [r.change_kind for r in prices]
    kinds += ["reference"] * len(rates)
    return observations, kinds


def load_reference_history(
    engine: Engine,
    *,
    trigger: str = "cli",
    flow_run_id: uuid.UUID | None = None,
) -> RunOutcome:
    """Version ``catalog/reference_prices.csv`` and ``reference_gpu_rates.csv`` (idempotent).

    The files live in the repository (their history is git's), so no raw
    snapshot is archived for this run.
    """
    observations, kinds = reference_observations()
    return ingest_observations(
        engine,
        SourceRow(REFERENCE, "reference"),
        observations,
        IngestOptions(listing_complete=False, change_kind=kinds),
        RunSpec(trigger, flow_run_id),
    )
