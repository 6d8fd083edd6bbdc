"""gpu-ratecards: the monthly rate-card back-series of henryzhangpku/gpu-price-index.

``series/backfill_ratecards.csv``: one row per month x index (``GIX-H100``,
``GIX-H200``, ``GIX-B200``, ``GIX-A100``) with the published ``value``, the
``status`` and the per-provider votes (``providers``: ``name=vote;...``).
The votes are *restated* by upstream to a benchmark good (8x SXM, US), so they
are not list prices: this is a comparison series, stored under a source of kind
``comparison`` that the costcurve index never reads (docs/gpu-index.md).

Observations: per vote, ``provider`` = the provider, ``statistic``
``restated_vote``; per published month, ``provider`` ``gpuidx``, ``statistic``
``index_value``, ``offer_count`` = ``provider_count``. All are ``on_demand``,
``gpu_count`` 8, ``region`` ``US``, observed at 00:00 UTC of the month's first day.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import httpx

from costcurve.core.observations import GpuRate, ParseError
from scrapers.history.gpu_common import GpuHistory, provider_slug
from scrapers.http import request_bytes

NAME = "gpu-ratecards"
URL = (
    "https://raw.githubusercontent.com/henryzhangpku/gpu-price-index/"
    "f741b56d6f8615757008a24372d340cc13f9d2f4/series/backfill_ratecards.csv"
)
DESCRIPTION = "Monthly rate-card back-series, restated votes (henryzhangpku/gpu-price-index)"
PUBLISHER = "gpuidx"
# The benchmark goods of the upstream method (8x SXM/NVLink, 80 GB A100).
INDEX_GPUS = {
    "GIX-H100": "H100-SXM-80GB",
    "GIX-H200": "H200-SXM-141GB",
    "GIX-B200": "B200-SXM-180GB",
    "GIX-A100": "A100-SXM-80GB",
}
_REQUIRED = ("period", "index_code", "status", "value", "provider_count", "providers")


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def _money(value: str, what: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ParseError(NAME, f"{what}: {value!r} is not a number") from None


def _votes(text: str, where: str) -> list[tuple[str, Decimal]]:
    out = []
    for part in filter(None, text.split(";")):
        name, sep, vote = part.partition("=")
        if not sep:
            raise ParseError(NAME, f"{where}: provider vote {part!r} is not name=value")
        out.append((provider_slug(name), _money(vote, where)))
    return out


def _rate(gpu: str, provider: str, value: Decimal, statistic: str, at: datetime) -> GpuRate:
    return GpuRate(
        source=NAME,
        provider=provider,
        gpu=gpu,
        gpu_count=8,
        pricing="on_demand",
        usd_per_gpu_hour=value,
        region="US",
        statistic=statistic,
        observed_at=at,
        source_url=URL,
    )


# ``observed_at`` is the parse contract; this dataset dates its own rows.
def parse(raw: bytes, *, observed_at: datetime | None = None) -> GpuHistory:  # noqa: ARG001
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or ())]
    if missing:
        raise ParseError(NAME, f"missing columns {', '.join(missing)}")
    out = GpuHistory()
    for line, row in enumerate(reader, start=2):
        gpu = INDEX_GPUS.get(row["index_code"])
        if gpu is None:
            out.skipped[f"unknown index {row['index_code']!r}"] += 1
            continue
        try:
            at = datetime.strptime(row["period"], "%Y-%m").replace(tzinfo=UTC)
        except ValueError:
            raise ParseError(
                NAME, f"line {line}: period {row['period']!r} is not YYYY-MM"
            ) from None
        for provider, vote in _votes(row["providers"], f"line {line}"):
            out.rates.append(_rate(gpu, provider, vote, "restated_vote", at))
        if row["status"] == "published" and row["value"]:
            value = _money(row["value"], f"line {line}")
            rate = _rate(gpu, PUBLISHER, value, "index_value", at)
            out.rates.append(rate.model_copy(update={"offer_count": int(row["provider_count"])}))
    if not out.rates:
        raise ParseError(NAME, "no votes and no published values")
    return out
