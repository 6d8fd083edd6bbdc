"""gpu-daily: daily per-provider GPU rental prices (cherielilili/gpu-pricing-tracker).

The file is ``data/observations.csv``: one row per date x provider x GPU x
gpu_count x region x rental_type with ``price_min_usd``, ``price_median_usd``,
``price_max_usd`` (USD per GPU-hour, over ``n_offers`` offers), the page the
tracker read (``source_url``) and when (``fetched_at``). Later files of the
same layout import the same way.

How rows become observations (tests/test_gpu_backfill.py checks each):

* ``provider`` is the row's provider (spelled as the first-party sources spell
  it, see ``gpu_common.PROVIDER_ALIASES``); ``source`` is always ``gpu-daily``,
  so these rows never pass for first-party scrapes. ``source_url`` keeps the
  page the tracker read (getdeploying.com before 2026-05-08, provider APIs after).
* The record has a day's resolution: ``observed_at`` is 00:00 UTC of ``date``.
* A row over one offer (``n_offers`` = 1) is one observation with no
  ``statistic``; a row over several is three, ``statistic`` = ``min``,
  ``median`` and ``max``, each with ``offer_count`` = ``n_offers``.
* ``rental_type`` is the pricing, except RunPod's community cloud (region
  ``community``, rental type ``on_demand``), which is ``community`` as in the
  first-party ``runpod`` source. ``region`` is kept as written.
* A GPU label the catalog cannot place, a price that is not positive, or a
  second row for the same offering and date (the first is kept) is skipped and
  counted by reason (never silently).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from costcurve.core.observations import GpuPricing, GpuRate, ParseError
from scrapers.history.gpu_common import GpuHistory, dataset_gpu, provider_slug
from scrapers.http import request_bytes

NAME = "gpu-daily"
URL = (
    "https://raw.githubusercontent.com/cherielilili/gpu-pricing-tracker/main/data/observations.csv"
)
DESCRIPTION = (
    "Daily per-provider GPU rental prices, 43 providers (cherielilili/gpu-pricing-tracker)"
)
COLUMNS = (
    "date",
    "provider",
    "gpu_model",
    "gpu_count",
    "region",
    "rental_type",
    "price_min_usd",
    "price_median_usd",
    "price_max_usd",
    "n_offers",
    "source_url",
    "fetched_at",
)
_PRICINGS: dict[str, GpuPricing] = {"on_demand": "on_demand", "spot": "spot"}


class DailyRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    provider: str
    gpu_model: str
    gpu_count: int
    region: str
    rental_type: str
    price_min_usd: Decimal
    price_median_usd: Decimal
    price_max_usd: Decimal
    n_offers: int
    source_url: str
    fetched_at: datetime


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def _rows(raw: bytes) -> list[DailyRow]:
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    except UnicodeDecodeError as exc:
        raise ParseError(NAME, f"not UTF-8 CSV: {exc}") from None
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ParseError(NAME, f"expected columns {', '.join(COLUMNS)}; got {reader.fieldnames}")
    rows = []
    for line, record in enumerate(reader, start=2):
        try:
            rows.append(DailyRow.model_validate(record))
        except (ValidationError, InvalidOperation) as exc:
            raise ParseError(NAME, f"line {line}: {exc}") from None
    if not rows:
        raise ParseError(NAME, "the file has a header but no rows")
    return rows


def _pricing(row: DailyRow) -> GpuPricing | None:
    pricing = _PRICINGS.get(row.rental_type)
    if pricing == "on_demand" and row.region.lower() == "community":
        return "community"
    return pricing


def _observations(row: DailyRow, gpu: str, pricing: GpuPricing) -> list[GpuRate]:
    at = datetime(row.date.year, row.date.month, row.date.day, tzinfo=UTC)
    common = {
        "source": NAME,
        "provider": provider_slug(row.provider),
        "gpu": gpu,
        "gpu_count": row.gpu_count,
        "pricing": pricing,
        "region": row.region,
        "offer_count": row.n_offers,
        "observed_at": at,
        "source_url": row.source_url,
    }
    if row.n_offers == 1:
        return [GpuRate(usd_per_gpu_hour=row.price_median_usd, **common)]
    stats = (
        ("min", row.price_min_usd),
        ("median", row.price_median_usd),
        ("max", row.price_max_usd),
    )
    return [GpuRate(usd_per_gpu_hour=v, statistic=s, **common) for s, v in stats]


# ``observed_at`` is the parse contract; this dataset dates its own rows.
def parse(raw: bytes, *, observed_at: datetime | None = None) -> GpuHistory:  # noqa: ARG001
    """Every placeable row as observations; the rest counted in ``skipped``."""
    out = GpuHistory()
    seen: set[tuple[object, ...]] = set()
    for row in _rows(raw):
        gpu = dataset_gpu(row.gpu_model)
        pricing = _pricing(row)
        key = (row.date, provider_slug(row.provider), gpu, row.gpu_count, row.region, pricing)
        if key in seen:
            # Two rows for one offering and date (two spellings of one provider): the
            # first is kept, the rest counted; one instant cannot hold two prices.
            out.skipped["a second row for one offering on one date"] += 1
            continue
        seen.add(key)
        if gpu is None:
            out.skipped[f"unknown GPU {row.gpu_model!r}"] += 1
        elif pricing is None:
            out.skipped[f"unknown rental_type {row.rental_type!r}"] += 1
        elif min(row.price_min_usd, row.price_median_usd, row.price_max_usd) <= 0:
            out.skipped["non-positive price"] += 1
        else:
            out.rates += _observations(row, gpu, pricing)
    return out
