"""Which price versions count (ARCHITECTURE.md "Which prices count"), as one step
applied to a version frame before any bucketing or tier assignment.

By default a version counts when it is a ``standard`` list price of the base
context tier (no tier, or an upper-bounded one such as ``<=200k``), is not
excluded by the plausibility screen, and only for as long as it is fresh:

* a version stops at ``fresh_until`` (its last sighting plus its source's
  horizon; null while a later version of the offering continues it), so a
  price nobody has seen for months is not carried forward;
* a curated ``reference`` version stops at ``covered_from``, the first time a
  live source listed the same offering.

``CountOptions`` turns each exclusion off for a request that asks for it
(``include_promotions``, ``include_quarantined``, ``include_stale``, and
``variants``, which replace the default standard list prices when given).
Frames without the optional columns (hand-built tests, self-hosted rows) count
as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from costcurve.analytics._frames import as_utc_datetime
from costcurve.core.offer_terms import PROMOTION, STANDARD


@dataclass(frozen=True)
class CountOptions:
    include_promotions: bool = False
    include_quarantined: bool = False
    include_stale: bool = False
    variants: Sequence[str] = ()


DEFAULT = CountOptions()
# The columns countable_prices reads (where a frame has them).
INPUT_COLUMNS = (
    "variant",
    "context_tier",
    "quarantined",
    "valid_from",
    "valid_to",
    "fresh_until",
    "covered_from",
)


def _base_tier(column: str) -> pl.Expr:
    tier = pl.col(column)
    return (
        tier.is_null()
        | tier.str.strip_chars_start().str.starts_with("<")
        | (tier.str.strip_chars_start().str.starts_with("\u2264"))
    )


def countable_prices(frame: pl.DataFrame, options: CountOptions = DEFAULT) -> pl.DataFrame:
    """``frame`` without the versions that do not count, valid_to clipped at freshness."""
    keep: list[pl.Expr] = []
    if "variant" in frame.columns:
        # The variants a request names replace the default (standard list prices).
        allowed = list(options.variants) or [STANDARD]
        if options.include_promotions:
            allowed.append(PROMOTION)
        keep.append(pl.col("variant").fill_null(STANDARD).is_in(allowed))
    if "context_tier" in frame.columns:
        keep.append(_base_tier("context_tier"))
    if "quarantined" in frame.columns and not options.include_quarantined:
        keep.append(~pl.col("quarantined").fill_null(False))
    # One lazy query: the filters and the clip run as one pass over the frame,
    # not one materialized copy per step (the frame can hold millions of versions).
    lazy = frame.lazy()
    if keep:
        lazy = lazy.filter(*keep)
    if not options.include_stale:
        lazy = _clip_to_freshness(frame, lazy)
    return lazy.collect()


def _clip_to_freshness(frame: pl.DataFrame, lazy: pl.LazyFrame) -> pl.LazyFrame:
    ends = [c for c in ("fresh_until", "covered_from") if c in frame.columns]
    if not ends:
        return lazy
    lazy = lazy.with_columns(
        as_utc_datetime(frame, c).alias(c) for c in ("valid_from", "valid_to", *ends)
    )
    stop = pl.min_horizontal(*(pl.col(c) for c in ends))
    clipped = (
        pl.when(stop.is_not_null() & (pl.col("valid_to").is_null() | (stop < pl.col("valid_to"))))
        .then(stop)
        .otherwise(pl.col("valid_to"))
    )
    return lazy.with_columns(valid_to=clipped).filter(
        pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("valid_from"))
    )
