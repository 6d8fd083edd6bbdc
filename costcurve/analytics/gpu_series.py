"""A GPU's rental rate over time: min and median per pricing type, per period.

Input: one row per rate *version* (``db.frames.gpu_versions``) with ``pricing``,
``usd_per_gpu_hour``, ``valid_from`` and ``valid_to``. The snapshot rule is the
cost curve's (``analytics.curves``): bucket i counts the versions in effect just
before ``as_of`` = min(bucket end, end), so a rate cut shows in the bucket where
it happened and a short promotion inside a bucket does not set its minimum.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from costcurve.analytics._frames import UTC_DATETIME, as_utc_datetime, as_utc_instant
from costcurve.analytics.curves import Interval, _buckets
from costcurve.analytics.money import to_float_prices

GPU_SERIES_COLUMNS = ("bucket_start", "as_of", "pricing", "min", "median", "count")
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def gpu_rate_series(
    versions: pl.DataFrame, *, interval: Interval, start: date | datetime, end: date | datetime
) -> pl.DataFrame:
    """Per (bucket, pricing): min, median (linear) and count of per-GPU-hour rates.

    A bucket where a pricing type has no rate in effect has no row. A ``date``
    end includes that whole day.
    """
    begin = as_utc_instant(start)
    end_excl = as_utc_instant(end) + (timedelta(0) if isinstance(end, datetime) else timedelta(1))
    if end_excl <= begin:
        raise ValueError(f"end ({end}) must be after start ({start})")
    empty = pl.DataFrame(
        schema={
            "bucket_start": UTC_DATETIME,
            "as_of": UTC_DATETIME,
            "pricing": pl.String,
            "min": pl.Float64,
            "median": pl.Float64,
            "count": pl.UInt32,
        }
    )
    frame = to_float_prices(versions, ["usd_per_gpu_hour"]).filter(
        pl.col("usd_per_gpu_hour").is_not_null()
    )
    if frame.is_empty():
        return empty
    frame = frame.with_columns(
        valid_from=as_utc_datetime(frame, "valid_from"),
        valid_to=as_utc_datetime(frame, "valid_to").fill_null(
            pl.lit(_FAR_FUTURE, dtype=UTC_DATETIME)
        ),
    )
    buckets = _buckets(interval, begin, end_excl)
    as_of = buckets["as_of"]
    # Bucket i counts a version when valid_from < as_of[i] <= valid_to: a contiguous run.
    live = (
        frame.select("pricing", "usd_per_gpu_hour")
        .with_columns(
            lo=as_of.search_sorted(frame["valid_from"], side="right"),
            hi=as_of.search_sorted(frame["valid_to"], side="right"),
        )
        .filter(pl.col("lo") < pl.col("hi"))
        .select("pricing", "usd_per_gpu_hour", bucket=pl.int_ranges("lo", "hi", dtype=pl.UInt32))
        .explode("bucket")
    )
    if live.is_empty():
        return empty
    rate = pl.col("usd_per_gpu_hour")
    stats = live.group_by("bucket", "pricing").agg(
        min=rate.min(), median=rate.quantile(0.5, "linear"), count=pl.len()
    )
    return (
        stats.join(buckets, on="bucket")
        .select(GPU_SERIES_COLUMNS)
        .sort("pricing", "bucket_start")
        .cast({"count": pl.UInt32})
    )
