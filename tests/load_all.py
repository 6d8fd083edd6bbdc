"""Load every shared dataset and recorded capture into a database (tests and bench).

Order: the curated reference, the history datasets, the dated LiteLLM
snapshots, then every recorded capture of every registered source, oldest
first. A capture whose name has no date is dated from MANIFEST.tsv's capture
column (the first ``YYYY-MM[-DD]`` it names), never from the file's time; a
capture that is not a price page (a bot-challenge page) fails its run only.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine

from costcurve.core.observations import ParseError, date_from_filename, utc
from db.backfill import backfill, backfill_litellm_files, load_reference_history
from db.pipeline import RunSpec, ingest_raw
from scrapers.registry import sources

_DAY = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")


@dataclass
class LoadReport:
    runs: int = 0
    failed: list[str] = field(default_factory=list)
    undated: dict[str, datetime] = field(default_factory=dict)


def manifest_dates(fixtures: Path) -> dict[str, datetime]:
    """file (relative to fixtures/) -> the first date its MANIFEST capture column names."""
    out: dict[str, datetime] = {}
    with (fixtures / "MANIFEST.tsv").open(newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 6 or not (m := _DAY.search(row[5])):
                continue
            out[row[0]] = utc(date(int(m[1]), int(m[2]), int(m[3] or 1)))
    return out


def _feed_date(datasets: Path, folder: str) -> datetime:
    """The commit date the datasets README gives for a dataset folder's snapshot."""
    for line in (datasets / "README.md").read_text().splitlines():
        if line.startswith(f"| `{folder}") and (m := re.search(r"\((\d{4}-\d{2}-\d{2})\)", line)):
            return utc(date.fromisoformat(m[1]))
    raise LookupError(f"datasets/README.md gives no snapshot date for {folder}")


def load_everything(engine: Engine, shared: Path) -> LoadReport:
    report = LoadReport()
    datasets, fixtures = shared / "datasets", shared / "fixtures"
    load_reference_history(engine, trigger="backfill")
    backfill(engine, "openrouterlist", (datasets / "openrouterlist" / "prices.json").read_bytes())
    feed = datasets / "genai-prices" / "prices" / "new_data" / "v2" / "data.json"
    backfill(
        engine, "genai-prices", feed.read_bytes(), observed_at=_feed_date(datasets, "genai-prices")
    )
    report.runs += 3
    report.runs += len(backfill_litellm_files(engine, [fixtures / "litellm"]))
    dated = manifest_dates(fixtures)
    for slug in sources():
        if slug == "litellm" or not (fixtures / slug).is_dir():
            continue
        for path in sorted((fixtures / slug).iterdir()):
            day = date_from_filename(path.name)
            when = utc(day) if day else dated.get(f"{slug}/{path.name}")
            if when is None:
                report.failed.append(f"{slug}/{path.name}: no capture date")
                continue
            if day is None:
                report.undated[f"{slug}/{path.name}"] = when
            try:
                spec = RunSpec(trigger="backfill", observed_at=when)
                ingest_raw(engine, slug, path.read_bytes(), observed_at=when, spec=spec)
                report.runs += 1
            except ParseError as exc:
                report.failed.append(f"{slug}/{path.name}: {exc}")
    return report
