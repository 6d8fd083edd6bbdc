"""Price against capability: the Pareto frontier at a date, and two price series.

- :func:`pareto_frontier`: at one date, the models no other model beats on
  both blended price and score (cheapest for each capability level).
- :func:`threshold_membership`: the "price of constant capability" series
  (Epoch's question, as a monthly step series): at each date, every model
  whose score released by then is at or above a threshold, as a one-tier
  membership for :func:`costcurve.analytics.tiers.apply_membership`.
- :func:`best_model_series`: the "price of the frontier" question taken
  literally: at each bucket, the cheapest price of the highest-scoring model
  that has a price at all (this can rise when a better, dearer model appears).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from costcurve.analytics._frames import UTC_DATETIME, as_utc_datetime, require_columns
from costcurve.analytics.blend import DEFAULT_RATIO, BlendRatio, price_expr
from costcurve.analytics.money import to_float_prices
from costcurve.analytics.tiers import change_dates, model_scores_by_date

PARETO_COLUMNS = ("model", "usd_per_mtok", "score", "usd_per_mtok_per_point", "provider")


def prices_at(
    versions: pl.DataFrame, at: datetime, ratio: BlendRatio = DEFAULT_RATIO
) -> pl.DataFrame:
    """(model, usd_per_mtok, provider): each model's cheapest blended price in effect at ``at``.

    Free listings and non-positive prices are not prices of capability.
    """
    require_columns(
        versions,
        ("model", "provider", "input_usd_per_mtok", "output_usd_per_mtok", "valid_from"),
        "the versions frame",
    )
    frame = to_float_prices(versions, ["input_usd_per_mtok", "output_usd_per_mtok"])
    frame = frame.with_columns(
        valid_from=as_utc_datetime(frame, "valid_from"),
        valid_to=as_utc_datetime(frame, "valid_to"),
        usd_per_mtok=price_expr("blended", ratio),
    )
    instant = pl.lit(at, dtype=UTC_DATETIME)
    live = frame.filter(
        pl.col("valid_from") <= instant,
        pl.col("valid_to").is_null() | (pl.col("valid_to") > instant),
        pl.col("usd_per_mtok") > 0,
        ~pl.col("free").fill_null(False) if "free" in frame.columns else pl.lit(True),
    )
    return (
        live.sort("usd_per_mtok", "provider")
        .group_by("model", maintain_order=True)
        .first()
        .select("model", "usd_per_mtok", "provider")
    )


def pareto_frontier(priced: pl.DataFrame) -> pl.DataFrame:
    """Rows of (model, usd_per_mtok, score[, provider]) on the price/score Pareto frontier.

    Sorted by price: a model is kept when its score is higher than every
    cheaper model's (of equal prices the higher score wins). Adds
    ``usd_per_mtok_per_point`` = price / score.
    """
    require_columns(priced, ("model", "usd_per_mtok", "score"), "the priced frame")
    frame = priced.filter(pl.col("usd_per_mtok").is_not_null(), pl.col("score").is_not_null())
    if "provider" not in frame.columns:
        frame = frame.with_columns(provider=pl.lit(None, dtype=pl.String))
    ordered = frame.sort(["usd_per_mtok", "score", "model"], descending=[False, True, False])
    best_before = pl.col("score").cum_max().shift(1)
    kept = ordered.filter(best_before.is_null() | (pl.col("score") > best_before))
    return kept.with_columns(
        usd_per_mtok_per_point=pl.col("usd_per_mtok") / pl.col("score")
    ).select(PARETO_COLUMNS)


def threshold_membership(
    scores: pl.DataFrame, catalog: pl.DataFrame, threshold: float
) -> pl.DataFrame:
    """Intervals in which each model's score is at or above ``threshold`` (tier ``at_or_above``).

    Same shape as :func:`costcurve.analytics.tiers.membership_intervals`; a
    model qualifies from the release of its first score name at or above the
    threshold, for good (its capability does not decay).
    """
    dates = change_dates(scores, catalog)
    by_date = model_scores_by_date(scores, dates)
    first = (
        by_date.filter(pl.col("score") >= threshold)
        .group_by("model")
        .agg(pl.col("as_of").min())
        .join(catalog.select("model", "chat"), on="model")
        .filter(pl.col("chat").fill_null(True))
    )
    return first.select(
        "model",
        tier=pl.lit("at_or_above"),
        tier_source=pl.lit("score"),
        valid_from=pl.col("as_of").cast(UTC_DATETIME),
        valid_to=pl.lit(None, dtype=UTC_DATETIME),
    ).sort("model")


def best_model_series(model_curve: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """Per bucket (date = its snapshot), the top-scored priced model and its price (module doc).

    ``model_curve`` is a cost curve whose ``tier`` column holds the model slug
    (one "tier" per model); ``scores`` is the score frame of the tier rule.
    """
    require_columns(model_curve, ("bucket_start", "as_of", "tier", "min"), "the model curve")
    if model_curve.is_empty():
        return pl.DataFrame(
            schema={
                "date": UTC_DATETIME,
                "price": pl.Float64,
                "model": pl.String,
                "score": pl.Float64,
            }
        )
    days = model_curve.select(day=(pl.col("as_of") - pl.duration(microseconds=1)).dt.date())
    by_date = model_scores_by_date(scores, days["day"].unique())
    joined = model_curve.with_columns(
        day=(pl.col("as_of") - pl.duration(microseconds=1)).dt.date()
    ).join(by_date, left_on=["day", "tier"], right_on=["as_of", "model"])
    return (
        joined.sort(["bucket_start", "score", "min"], descending=[False, True, False])
        .group_by("bucket_start", maintain_order=True)
        .first()
        .select(date="as_of", price="min", model="tier", score="score")
    )
