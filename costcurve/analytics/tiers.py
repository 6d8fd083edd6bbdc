"""Capability tiers that change over time: a model's tier at a date, from its measured score.

The rule (README "Capability tiers"; parameters in :class:`costcurve.config.tiers.TierRule`):

1. ``best(D)``: the highest score on the rule's benchmark (ECI by default) of any
   model released on or before D, whether or not our catalog lists it (the
   frontier is the world's, not ours). A model's score at D is its best score
   among the score names released by D (a later snapshot does not lift an
   earlier one retroactively).
2. ``local``: open weights whose total parameters x ``local_bits_per_param``/8
   plus ``local_kv_cache_gb`` fit ``local_gpu_memory_gb`` (every expert of a MoE
   must be resident, so total, not active, parameters count). This is a
   deployment class and takes precedence over the score bands.
3. Otherwise, with a score at D: ``gap = best(D) - score``; frontier when
   ``gap <= frontier_within``, strong within ``strong_within``, good within
   ``good_within``, else fast.
4. Without a score: the catalog's reviewed static label, marked
   ``tier_source = "static_label"`` so every response can flag it.
5. Non-chat models (``chat: false`` in the catalog: safety classifiers) and
   models not yet released at D are in no tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from costcurve.analytics._frames import require_columns
from costcurve.config.tiers import TierRule

SCORE_COLUMNS = ("model", "score", "released_on")
CATALOG_COLUMNS = (
    "model",
    "release_date",
    "open_weights",
    "total_params_b",
    "chat",
    "static_tier",
)
MEMBERSHIP_COLUMNS = ("as_of", "model", "tier", "tier_source", "score", "best", "gap")
TIER_SOURCES = ("score", "local_rule", "static_label")


def fits_local(rule: TierRule) -> pl.Expr:
    """Open weights that fit one GPU at the rule's quantization (see module doc)."""
    bytes_per_param = float(rule.local_bits_per_param) / 8.0
    need_gb = pl.col("total_params_b").cast(pl.Float64) * bytes_per_param + float(
        rule.local_kv_cache_gb
    )
    return (
        pl.col("open_weights").fill_null(False)
        & need_gb.is_not_null()
        & (need_gb <= float(rule.local_gpu_memory_gb))
    )


def _dates(dates: Sequence[date] | pl.Series) -> pl.DataFrame:
    return pl.DataFrame({"as_of": pl.Series(list(dates), dtype=pl.Date)}).unique().sort("as_of")


def best_by_date(scores: pl.DataFrame, dates: Sequence[date] | pl.Series) -> pl.DataFrame:
    """(as_of, best): the highest score released on or before each date (null before any)."""
    require_columns(scores, SCORE_COLUMNS, "the score frame")
    released = scores.filter(pl.col("released_on").is_not_null()).select(
        pl.col("released_on").cast(pl.Date), pl.col("score").cast(pl.Float64)
    )
    running = released.group_by("released_on").agg(pl.col("score").max()).sort("released_on")
    running = running.with_columns(best=pl.col("score").cum_max()).drop("score")
    return (
        _dates(dates)
        .join_asof(running, left_on="as_of", right_on="released_on")
        .drop("released_on")
    )


def model_scores_by_date(scores: pl.DataFrame, dates: Sequence[date] | pl.Series) -> pl.DataFrame:
    """(as_of, model, score): each resolved model's best score released by each date."""
    resolved = scores.filter(
        pl.col("model").is_not_null(), pl.col("released_on").is_not_null()
    ).select("model", pl.col("released_on").cast(pl.Date), pl.col("score").cast(pl.Float64))
    per_day = (
        resolved.group_by("model", "released_on")
        .agg(pl.col("score").max())
        .sort("model", "released_on")
        .with_columns(score=pl.col("score").cum_max().over("model"))
    )
    grid = _dates(dates).join(per_day.select("model").unique(), how="cross").sort("as_of")
    return (
        grid.join_asof(
            per_day.sort("released_on"),
            left_on="as_of",
            right_on="released_on",
            by="model",
            check_sortedness=False,  # sorted by date above; polars cannot check within groups
        )
        .filter(pl.col("score").is_not_null())
        .select("as_of", "model", "score")
    )


def tier_membership(
    scores: pl.DataFrame,
    catalog: pl.DataFrame,
    dates: Sequence[date] | pl.Series,
    rule: TierRule,
) -> pl.DataFrame:
    """Every released chat model's tier at each date (``MEMBERSHIP_COLUMNS``; module doc)."""
    require_columns(catalog, CATALOG_COLUMNS, "the catalog frame")
    models = catalog.filter(pl.col("chat").fill_null(True)).with_columns(
        pl.col("release_date").cast(pl.Date), local=fits_local(rule)
    )
    grid = (
        _dates(dates)
        .join(models, how="cross")
        .filter(pl.col("release_date") <= pl.col("as_of"))
        .join(model_scores_by_date(scores, dates), on=["as_of", "model"], how="left")
        .join(best_by_date(scores, dates), on="as_of", how="left")
        .with_columns(gap=pl.col("best") - pl.col("score"))
    )
    gap = pl.col("gap")
    tier = (
        pl.when(pl.col("local"))
        .then(pl.lit("local"))
        .when(gap.is_null())
        .then(pl.col("static_tier"))
        .when(gap <= rule.frontier_within)
        .then(pl.lit("frontier"))
        .when(gap <= rule.strong_within)
        .then(pl.lit("strong"))
        .when(gap <= rule.good_within)
        .then(pl.lit("good"))
        .otherwise(pl.lit("fast"))
    )
    source = (
        pl.when(pl.col("local"))
        .then(pl.lit("local_rule"))
        .when(gap.is_null())
        .then(pl.lit("static_label"))
        .otherwise(pl.lit("score"))
    )
    return grid.select(
        "as_of", "model", tier.alias("tier"), source.alias("tier_source"), "score", "best", "gap"
    ).sort("as_of", "model")


def change_dates(scores: pl.DataFrame, catalog: pl.DataFrame) -> pl.Series:
    """Every date on which some model's tier can change: a score or a model is released."""
    days = pl.concat(
        [
            scores.select(day=pl.col("released_on").cast(pl.Date)),
            catalog.select(day=pl.col("release_date").cast(pl.Date)),
        ]
    )
    return days["day"].drop_nulls().unique().sort()


def membership_intervals(
    scores: pl.DataFrame, catalog: pl.DataFrame, rule: TierRule
) -> pl.DataFrame:
    """Each model's tier as intervals ``[valid_from, valid_to)`` (UTC; null = still)."""
    dates = change_dates(scores, catalog)
    frame = tier_membership(scores, catalog, dates, rule).sort("model", "as_of")
    changed = (pl.col("tier") != pl.col("tier").shift(1).over("model")) | (
        pl.col("tier_source") != pl.col("tier_source").shift(1).over("model")
    )
    starts = frame.filter(changed.fill_null(True))
    return starts.select(
        "model",
        "tier",
        "tier_source",
        valid_from=pl.col("as_of").cast(pl.Datetime("us", "UTC")),
        valid_to=pl.col("as_of").shift(-1).over("model").cast(pl.Datetime("us", "UTC")),
    )


def apply_membership(versions: pl.DataFrame, intervals: pl.DataFrame) -> pl.DataFrame:
    """Price versions re-tiered by the membership in effect while each was valid.

    A version spanning a tier change is split at the change, so a bucket's
    snapshot sees the tier the model had at that instant. Models with no
    interval (non-chat, unreleased) drop out: they are in no tier. Adds
    ``tier_source``; replaces ``tier``.
    """
    require_columns(versions, ("model", "valid_from", "valid_to"), "the versions frame")
    far = pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    # Lazy: the join, the clip and the filter run as one query, without a
    # materialized copy of the joined frame in between. In the versions' order: a
    # layered frame's settled rows stay sorted by id, so no sorted copy is made of
    # them (api/curve_cache.py derives them; 150 MB less at the peak at 1M versions).
    joined = (
        versions.lazy()
        .drop("tier", "tier_source", strict=False)
        .join(
            intervals.lazy().rename({"valid_from": "_m_from", "valid_to": "_m_to"}),
            on="model",
            maintain_order="left",
        )
    )
    start = pl.max_horizontal(pl.col("valid_from"), pl.col("_m_from"))
    end = (
        pl.when(pl.col("valid_to").is_null())
        .then(pl.col("_m_to"))
        .when(pl.col("_m_to").is_null())
        .then(pl.col("valid_to"))
        .otherwise(pl.min_horizontal(pl.col("valid_to"), pl.col("_m_to")))
    )
    split = joined.with_columns(valid_from=start, valid_to=end.fill_null(far))
    return (
        split.filter(pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("valid_from")))
        .drop("_m_from", "_m_to")
        .collect()
    )
