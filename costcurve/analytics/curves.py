"""Cost curves per capability tier: what the cheapest (and typical) price was, per period.

Input (``OFFERINGS_SCHEMA``): one row per price *version* of an offering, as
stored in ``llm_price_version`` joined with its offering and the catalog tier.
A version is in effect over the half-open interval ``[valid_from, valid_to)``;
``valid_to`` null means still open.

Snapshot rule: each bucket (day, ISO week from Monday, or calendar month, in
UTC) uses the version of every offering that was in effect at the *last
instant of the bucket*, i.e. just before ``as_of = min(bucket end, end)``. So
the curve answers "what did the market look like at the end of each period",
the same question as "what was the price on date D", and a price cut shows in
the bucket where it happened. A short-lived promotion that began and ended
inside one bucket does not set that bucket's minimum; min-over-bucket was
rejected for that reason (and because it counts an offering once per price it
had, skewing the quantiles).

Overlapping versions of one offering (which the database never stores, but a
hand-built or merged frame may) are resolved like an as-of lookup: the version
that started later wins from its start; on equal starts a ``correction`` beats
``observed`` beats ``announced`` beats ``reference``.

Cost: the expansion has one row per (live offering, bucket), built with a
vectorised range join (sorted search + ``int_ranges``), no Python loop over rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import polars as pl

from costcurve.analytics._frames import (
    UTC_DATETIME,
    as_utc_datetime,
    as_utc_instant,
    require_columns,
)
from costcurve.analytics.blend import DEFAULT_RATIO, BlendRatio, Metric, check_metric, price_expr
from costcurve.analytics.money import to_float_prices

Interval = Literal["day", "week", "month"]
_EVERY = {"day": "1d", "week": "1w", "month": "1mo"}

OFFERINGS_SCHEMA: dict[str, str] = {
    "offering_id": "integer or text: one offering (source, provider, model id, variant, ...)",
    "provider": "text: who sells the tokens",
    "model": "text: canonical model slug",
    "tier": "text: frontier | strong | good | fast | local",
    "input_usd_per_mtok": "Decimal or float, nullable",
    "output_usd_per_mtok": "Decimal or float, nullable",
    "valid_from": "datetime (UTC) or date: first instant the version is in effect",
    "valid_to": "datetime (UTC) or date, nullable: first instant it is no longer in effect",
    "free": "bool: a free listing",
    "change_kind": "text: observed | correction | announced | reference",
    "self_hosted": "bool: a computed self-hosting cost, not an API price",
}

CURVE_COLUMNS = (
    "bucket_start",
    "as_of",
    "tier",
    "min",
    "p25",
    "median",
    "max",
    "count",
    "cheapest_provider",
    "cheapest_model",
    "cheapest_offering_id",
)

_KIND_PRIORITY = {"reference": 0, "announced": 1, "observed": 2, "correction": 3}
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def _buckets(interval: Interval, start: datetime, end_excl: datetime) -> pl.DataFrame:
    every = _EVERY[interval]
    first = pl.Series([start], dtype=UTC_DATETIME).dt.truncate(every)[0]
    starts = pl.datetime_range(first, end_excl, every, eager=True, time_zone="UTC")
    starts = starts.filter(starts < end_excl)
    frame = pl.DataFrame({"bucket_start": starts.cast(UTC_DATETIME)})
    next_start = pl.col("bucket_start").dt.offset_by(every)
    return frame.with_columns(
        as_of=pl.min_horizontal(next_start, pl.lit(end_excl, dtype=UTC_DATETIME))
    ).with_row_index("bucket")


def _resolve_overlaps(versions: pl.DataFrame) -> pl.DataFrame:
    """Clip each version at the start of the offering's next version (see module doc)."""
    versions = versions.sort("offering_id", "valid_from", "kind_priority")
    next_start = pl.col("valid_from").shift(-1).over("offering_id")
    clipped = (
        pl.when(
            next_start.is_not_null()
            & (pl.col("valid_to").is_null() | (next_start < pl.col("valid_to")))
        )
        .then(next_start)
        .otherwise(pl.col("valid_to"))
    )
    return versions.with_columns(valid_to=clipped).filter(
        pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("valid_from"))
    )


def tier_cost_curve(
    offerings: pl.DataFrame,
    *,
    interval: Interval = "month",
    metric: Metric = "blended",
    start: date | datetime,
    end: date | datetime,
    ratio: BlendRatio = DEFAULT_RATIO,
    include_self_hosted: bool = False,
    include_corrections: bool = True,
    include_free: bool = False,
    providers: Sequence[str] | None = None,
    dedupe_sources: bool = False,
) -> pl.DataFrame:
    """Per (bucket, tier): min, p25, median, max and count of prices, and the cheapest offering.

    ``start``/``end`` bound the curve; a ``date`` end includes that whole day.
    Buckets run from the one containing ``start`` to the one containing
    ``end``; the last bucket's snapshot is taken at ``end``. Quantiles are
    linear-interpolated. Filters: self-hosted rows and free listings (flagged
    ``free`` or priced 0 on the metric) are left out unless asked for;
    ``include_corrections=False`` drops ``correction`` versions (the prices as
    first observed); ``providers`` keeps only those providers. A bucket where
    a tier has no priced offering has no row. Ties for cheapest go to the
    alphabetically first (provider, model, offering_id). With
    ``dedupe_sources`` an offering is a (provider, model) pair: versions of the
    same pair from several sources count once per bucket, at their lowest price.
    """
    if interval not in _EVERY:
        raise ValueError(f"unknown interval {interval!r}; use one of {', '.join(_EVERY)}")
    check_metric(metric)
    require_columns(offerings, OFFERINGS_SCHEMA, "the offerings frame")
    begin = as_utc_instant(start)
    end_excl = as_utc_instant(end)
    if not isinstance(end, datetime):
        end_excl += timedelta(days=1)
    if end_excl <= begin:
        raise ValueError(f"end ({end}) must be after start ({start})")

    frame = to_float_prices(offerings)
    frame = frame.with_columns(
        valid_from=as_utc_datetime(frame, "valid_from"),
        valid_to=as_utc_datetime(frame, "valid_to"),
        usd_per_mtok=price_expr(metric, ratio),
        kind_priority=pl.col("change_kind").replace_strict(
            _KIND_PRIORITY, default=-1, return_dtype=pl.Int8
        ),
    )
    keep = [pl.col("usd_per_mtok").is_not_null(), pl.col("tier").is_not_null()]
    if not include_self_hosted:
        keep.append(~pl.col("self_hosted").fill_null(False))
    if not include_corrections:
        keep.append(pl.col("change_kind") != "correction")
    if not include_free:
        keep += [~pl.col("free").fill_null(False), pl.col("usd_per_mtok") != 0]
    if providers is not None:
        keep.append(pl.col("provider").is_in(list(providers)))
    # Row order of `version` is the tie-break for the cheapest offering.
    versions = (
        _resolve_overlaps(frame.filter(*keep))
        .sort("provider", "model", "offering_id", "valid_from")
        .with_row_index("version")
    )

    buckets = _buckets(interval, begin, end_excl)
    as_of = buckets["as_of"]
    # Bucket i uses a version when valid_from < as_of[i] <= valid_to (module doc):
    # those i form one contiguous run, found by binary search on the sorted as_of.
    lo = as_of.search_sorted(versions["valid_from"], side="right")
    hi = as_of.search_sorted(
        versions["valid_to"].fill_null(pl.lit(_FAR_FUTURE, dtype=UTC_DATETIME)), side="right"
    )
    spans = (
        versions.select("version", "tier", "usd_per_mtok")
        .with_columns(lo=lo, hi=hi)
        .filter(pl.col("lo") < pl.col("hi"))
    )
    live = spans.select(
        "version", "tier", "usd_per_mtok", bucket=pl.int_ranges("lo", "hi", dtype=pl.UInt32)
    ).explode("bucket")
    if dedupe_sources:
        # Several sources list the same (provider, model) (a first-party page,
        # LiteLLM, a dataset): in a bucket it is one offering at its lowest price.
        pm = versions.select("version", pm=pl.struct("provider", "model").hash())
        live = (
            live.join(pm, on="version")
            .sort("usd_per_mtok", "version")
            .group_by("bucket", "tier", "pm", maintain_order=True)
            .first()
            .drop("pm")
        )

    price = pl.col("usd_per_mtok")
    stats = live.group_by("bucket", "tier").agg(
        min=price.min(),
        p25=price.quantile(0.25, "linear"),
        median=price.quantile(0.5, "linear"),
        max=price.max(),
        count=pl.len(),
        # Lowest version number among the cheapest: the documented tie-break,
        # and much faster than sorting every group.
        cheapest=pl.col("version").filter(price == price.min()).min(),
    )
    names = versions.select(
        cheapest="version",
        cheapest_provider="provider",
        cheapest_model="model",
        cheapest_offering_id="offering_id",
    )
    return (
        stats.join(buckets, on="bucket")
        .join(names, on="cheapest", how="left")
        .select(CURVE_COLUMNS)
        .sort("bucket_start", "tier")
    )
