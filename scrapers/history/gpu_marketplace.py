"""gpu-marketplace: Prime Intellect marketplace snapshots (tugot17/gpu-price-tracker, MIT).

One JSON line per snapshot and GPU type (``data/summary/<GPU>.jsonl``, every
30 min to 4 h): ``timestamp``, ``gpu_type``, ``socket_type``, ``price_stats``,
``availability``, ``by_provider`` ({provider: {count, min, avg}}) and
``by_config``.

How snapshots become observations (tests/test_gpu_backfill.py checks each):

* Each ``by_provider`` entry is two observations of the provider as listed on
  the marketplace: ``statistic`` ``min`` and ``avg`` (USD per GPU-hour over
  ``count`` listings, ``offer_count``), ``source`` ``gpu-marketplace``,
  ``observed_at`` the snapshot's timestamp.
* ``pricing`` is ``community``: the upstream mixes spot and on-demand
  listings in ``by_provider`` and does not split them, so they are not passed
  off as either. ``gpu_count`` is 1 (prices are per GPU, over every size).
* Provider names are Prime Intellect's (``dc_*`` are anonymised datacentres),
  spelled as first-party sources spell them where one exists.
* ``price_stats`` (the marketplace-wide percentiles) and ``by_config`` are not
  provider prices and are not imported; the archived raw file keeps them.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from costcurve.core.observations import GpuRate, ParseError
from scrapers.history.gpu_common import GpuHistory, dataset_gpu, provider_slug
from scrapers.http import request_bytes

NAME = "gpu-marketplace"
URL = "https://github.com/tugot17/gpu-price-tracker/tree/main/data/summary"
DESCRIPTION = "Prime Intellect GPU marketplace snapshots per provider (tugot17/gpu-price-tracker)"


class ProviderStats(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int
    min: Decimal
    avg: Decimal


class Snapshot(BaseModel):
    # Upstream adds fields over time; only the ones read here are checked.
    model_config = ConfigDict(extra="ignore", frozen=True)

    timestamp: datetime
    gpu_type: str
    socket_type: str | None = None
    by_provider: dict[str, ProviderStats]


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def _snapshots(raw: bytes) -> list[Snapshot]:
    out = []
    for number, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(Snapshot.model_validate(json.loads(line, parse_float=Decimal)))
        except (ValueError, ValidationError) as exc:
            raise ParseError(NAME, f"line {number}: not a snapshot object: {exc}") from None
    if not out:
        raise ParseError(NAME, "no snapshot lines")
    return out


# ``observed_at`` is the parse contract; this dataset dates its own rows.
def parse(raw: bytes, *, observed_at: datetime | None = None) -> GpuHistory:  # noqa: ARG001
    """The per-provider min and average of every snapshot line of one JSONL file."""
    out = GpuHistory()
    for snap in _snapshots(raw):
        if snap.timestamp.tzinfo is None:
            raise ParseError(NAME, f"timestamp {snap.timestamp} has no time zone")
        label = f"{snap.gpu_type} {snap.socket_type or ''}"
        gpu = dataset_gpu(label)
        if gpu is None:
            out.skipped[f"unknown GPU {label.strip()!r}"] += len(snap.by_provider)
            continue
        for provider, stats in sorted(snap.by_provider.items()):
            if min(stats.min, stats.avg) <= 0:
                out.skipped["non-positive price"] += 1
                continue
            for statistic, value in (("min", stats.min), ("avg", stats.avg)):
                out.rates.append(
                    GpuRate(
                        source=NAME,
                        provider=provider_slug(provider),
                        gpu=gpu,
                        gpu_count=1,
                        pricing="community",
                        usd_per_gpu_hour=value,
                        statistic=statistic,
                        offer_count=stats.count,
                        observed_at=snap.timestamp,
                        source_url="https://app.primeintellect.ai/dashboard/create-cluster",
                    )
                )
    return out
