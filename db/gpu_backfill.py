"""Backfill of the GPU history datasets: ``gpu-daily``, ``gpu-marketplace``, ``gpu-ratecards``.

Each import is one pipeline run under the dataset's own source (kind
``dataset``, or ``comparison`` for the rate-card back-series, which the GPU
index never reads), with every input file archived content-addressed, so a
dataset row can never pass for a first-party scrape and can be re-parsed.

The daily and marketplace datasets are snapshots in time: each date (daily) or
snapshot instant (marketplace) is applied in time order as that source's
complete listing, so an offering missing from a later snapshot is closed there
(``db.ingest``'s partial-listing guard still applies), and a provider that
drops out is visible in the versions rather than held open. Re-importing the
same file, or a later file of the same layout that overlaps it, opens nothing
twice. Rows the parser cannot place are counted in ``skipped`` (returned, and
noted in the run's ``error`` column although the run succeeds). The whole import
commits in one transaction with the run's ``succeeded`` state.
"""

from __future__ import annotations

import gzip
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from costcurve.core.observations import GpuRate
from db.ingest import IngestResult, ingest
from db.pipeline import RunSpec, SourceRow, ingest_counts, recorded_run
from scrapers.history import gpu_daily, gpu_marketplace, gpu_ratecards
from scrapers.history.gpu_common import GpuHistory

COMPARISON_KIND = "comparison"
GPU_DATASET_NAMES = (gpu_daily.NAME, gpu_marketplace.NAME, gpu_ratecards.NAME)


@dataclass
class GpuBackfillOutcome:
    run_id: int
    result: IngestResult
    skipped: Counter[str] = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Dataset:
    name: str
    url: str
    kind: str
    files: Callable[[Path], list[Path]]
    parse: Callable[[bytes], GpuHistory]
    snapshots: bool  # apply each instant as a complete listing


def _one_file(path: Path) -> list[Path]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not a file")
    return [path]


def _marketplace_files(path: Path) -> list[Path]:
    folder = path / "summary" if (path / "summary").is_dir() else path
    files = sorted(p for p in folder.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
    if not files:
        raise FileNotFoundError(f"no *.jsonl or *.jsonl.gz snapshot files in {folder}")
    return files


def _ratecard_file(path: Path) -> list[Path]:
    return [path / "backfill_ratecards.csv"] if path.is_dir() else _one_file(path)


DATASETS = {
    gpu_daily.NAME: _Dataset(
        gpu_daily.NAME, gpu_daily.URL, "dataset", _one_file, gpu_daily.parse, True
    ),
    gpu_marketplace.NAME: _Dataset(
        gpu_marketplace.NAME,
        gpu_marketplace.URL,
        "dataset",
        _marketplace_files,
        gpu_marketplace.parse,
        True,
    ),
    gpu_ratecards.NAME: _Dataset(
        gpu_ratecards.NAME,
        gpu_ratecards.URL,
        COMPARISON_KIND,
        _ratecard_file,
        gpu_ratecards.parse,
        False,
    ),
}


def _read(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.endswith(".gz") else raw


def _merge(total: IngestResult, part: IngestResult) -> None:
    total.observations += part.observations
    total.new_versions += part.new_versions
    total.closed_versions += part.closed_versions
    total.unchanged += part.unchanged
    total.skipped += part.skipped
    total.listing_complete_applied |= part.listing_complete_applied


def _apply(conn: Connection, ds: _Dataset, rates: Sequence[GpuRate], run_id: int) -> IngestResult:
    if not ds.snapshots:
        return ingest(conn, ds.name, rates, listing_complete=False, run_id=run_id)
    recorded_at = datetime.now(UTC)
    total = IngestResult()
    by_instant: dict[datetime, list[GpuRate]] = defaultdict(list)
    for rate in rates:
        by_instant[rate.observed_at].append(rate)
    for at in sorted(by_instant):
        part = ingest(
            conn,
            ds.name,
            by_instant[at],
            listing_complete=True,
            run_id=run_id,
            recorded_at=recorded_at,
        )
        _merge(total, part)
    return total


def _note(skipped: Counter[str]) -> dict[str, object]:
    if not skipped:
        return {}
    return {
        "error": "rows not imported: " + "; ".join(f"{k}: {n}" for k, n in sorted(skipped.items()))
    }


def backfill_gpu_dataset(engine: Engine, name: str, path: Path) -> GpuBackfillOutcome:
    """Import one GPU history dataset from ``path`` (a file, or a folder for some)."""
    try:
        ds = DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown GPU dataset {name!r}; known: {', '.join(DATASETS)}") from None
    files = ds.files(path)
    source = SourceRow(ds.name, ds.kind, ds.url, listing_complete=ds.snapshots)
    with recorded_run(engine, source, RunSpec(observed_at=datetime.now(UTC))) as run:
        history = GpuHistory()
        for file in files:
            raw = file.read_bytes()
            run.archive(raw, url=ds.url, fetched_at=datetime.now(UTC))
            part = ds.parse(_read(file))
            history.rates += part.rates
            history.skipped += part.skipped
        result = run.commit(
            lambda conn: _apply(conn, ds, history.rates, run.run_id),
            lambda r: ingest_counts(r) | _note(history.skipped),
        )
    return GpuBackfillOutcome(run.run_id, result, history.skipped, [f.name for f in files])
