"""Compare the costcurve H100 SXM on-demand index with the gpuidx monthly back-series.

For every month both cover: the costcurve monthly point (mean of its published
daily prints, as ``GET /v1/gpu-index?interval=month``) beside the back-series'
published ``GIX-H100`` value, their ratio, and both provider counts. Reads the
prints from the database (``costcurve gpu-index publish`` first) and the
back-series from its CSV. docs/gpu-index.md ("Comparison") explains the gaps.

    DATABASE_URL=... python bench/gpu_index_vs_backseries.py \
        ../shared/datasets/gpu-history/gpuidx-backfill/backfill_ratecards.csv
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from db.engine import get_engine
from db.gpu_index import series


def costcurve_months(gpu: str = "H100-SXM-80GB") -> dict[str, tuple[Decimal, int, int]]:
    """month -> (mean published daily value, distinct contributors, days published)."""
    with get_engine().connect() as conn:
        rows = series(
            conn,
            gpu=gpu,
            tenor="on_demand",
            segment="all",
            interval="day",
            start=datetime(2020, 1, 1, tzinfo=UTC),
            end=datetime(2100, 1, 1, tzinfo=UTC),
        )
    by_month: dict[str, list[dict[str, object]]] = defaultdict(list)
    for r in rows:
        if r["usd_per_gpu_hour"] is not None:
            by_month[r["period_start"].strftime("%Y-%m")].append(r)
    out = {}
    for month, days in sorted(by_month.items()):
        values = [Decimal(d["usd_per_gpu_hour"]) for d in days]  # type: ignore[arg-type]
        providers = {c["provider"] for d in days for c in d["contributors"]}  # type: ignore[attr-defined]
        out[month] = (
            (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.0001")),
            len(providers),
            len(days),
        )
    return out


def backseries(path: Path, code: str = "GIX-H100") -> dict[str, tuple[Decimal, int]]:
    with path.open(newline="") as f:
        return {
            r["period"]: (Decimal(r["value"]), int(r["provider_count"]))
            for r in csv.DictReader(f)
            if r["index_code"] == code and r["status"] == "published" and r["value"]
        }


def main() -> None:
    ours, theirs = costcurve_months(), backseries(Path(sys.argv[1]))
    print("| month | costcurve | providers (days) | gpuidx back-series | providers | ratio |")
    print("|---|---|---|---|---|---|")
    for month in sorted(set(ours) & set(theirs)):
        (value, providers, days), (ref, ref_n) = ours[month], theirs[month]
        ratio = (value / ref).quantize(Decimal("0.001"))
        print(f"| {month} | {value} | {providers} ({days}) | {ref} | {ref_n} | {ratio} |")


if __name__ == "__main__":
    main()
