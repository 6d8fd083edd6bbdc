"""Pareto frontier, membership re-tiering and the constant-capability membership, hand-built."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from costcurve.analytics.capability import pareto_frontier, prices_at, threshold_membership
from costcurve.analytics.curves import tier_cost_curve
from costcurve.analytics.tiers import apply_membership


def _utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def test_pareto_keeps_only_models_no_cheaper_model_matches() -> None:
    priced = pl.DataFrame(
        {
            "model": ["a", "b", "c", "d", "e", "f"],
            "usd_per_mtok": [0.1, 0.2, 0.2, 1.0, 5.0, 3.0],
            "score": [110.0, 108.0, 120.0, 125.0, 124.0, 130.0],
        }
    )
    frontier = pareto_frontier(priced)
    # b is beaten by a (cheaper, higher); of b/c at 0.2 only the higher c; e by d.
    assert frontier["model"].to_list() == ["a", "c", "d", "f"]
    assert frontier["usd_per_mtok_per_point"].to_list() == pytest.approx(
        [0.1 / 110, 0.2 / 120, 1.0 / 125, 3.0 / 130]
    )


def _versions() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "offering_id": [1, 2],
            "provider": ["p", "p"],
            "model": ["m", "n"],
            "tier": ["good", "good"],
            "input_usd_per_mtok": [4.0, 1.0],
            "output_usd_per_mtok": [8.0, 2.0],
            "valid_from": [_utc(2024, 1, 1), _utc(2024, 1, 1)],
            "valid_to": [None, None],
            "free": [False, False],
            "change_kind": ["observed", "observed"],
            "self_hosted": [False, False],
        },
        schema_overrides={"valid_to": pl.Datetime("us", "UTC")},
    )


def test_a_version_spanning_a_tier_change_counts_in_each_tier_in_turn() -> None:
    intervals = pl.DataFrame(
        {
            "model": ["m", "m", "n"],
            "tier": ["frontier", "strong", "good"],
            "tier_source": ["score", "score", "static_label"],
            "valid_from": [_utc(2024, 1, 1), _utc(2024, 3, 15), _utc(2024, 1, 1)],
            "valid_to": [_utc(2024, 3, 15), None, None],
        }
    )
    tiered = apply_membership(_versions(), intervals)
    curve = tier_cost_curve(tiered, start=date(2024, 1, 1), end=date(2024, 4, 30))
    by = {(r["bucket_start"].month, r["tier"]): r["cheapest_model"] for r in curve.to_dicts()}
    assert by[(2, "frontier")] == "m"
    assert (2, "strong") not in by
    assert by[(3, "strong")] == "m"
    assert (3, "frontier") not in by
    assert by[(4, "good")] == "n"


def test_models_without_membership_are_in_no_tier() -> None:
    intervals = pl.DataFrame(
        {
            "model": ["n"],
            "tier": ["good"],
            "tier_source": ["score"],
            "valid_from": [_utc(2024, 1, 1)],
            "valid_to": [None],
        },
        schema_overrides={"valid_to": pl.Datetime("us", "UTC")},
    )
    assert apply_membership(_versions(), intervals)["model"].to_list() == ["n"]


def test_re_tiered_versions_keep_the_order_of_the_versions() -> None:
    # Layered frames (db/frame_layers.py) derive their settled rows sorted by id and
    # rely on the derivation keeping that order.
    n = 2_000
    models = ["m", "n", "o"]
    versions = pl.DataFrame(
        {
            "id": list(range(n)),
            "model": [models[(i * 7) % 3] for i in range(n)],
            "valid_from": [_utc(2024, 1, 1)] * n,
            "valid_to": [None] * n,
        },
        schema_overrides={"valid_to": pl.Datetime("us", "UTC")},
    )
    intervals = pl.DataFrame(
        {
            "model": ["o", "n", "m", "m"],
            "tier": ["good", "good", "frontier", "strong"],
            "tier_source": ["score"] * 4,
            "valid_from": [_utc(2024, 1, 1)] * 3 + [_utc(2024, 6, 1)],
            "valid_to": [None, None, _utc(2024, 6, 1), None],
        },
        schema_overrides={"valid_to": pl.Datetime("us", "UTC")},
    )
    tiered = apply_membership(versions, intervals)
    assert tiered.height == n + sum(1 for i in range(n) if models[(i * 7) % 3] == "m")
    assert tiered["id"].is_sorted()


def test_threshold_membership_starts_when_a_qualifying_score_is_released() -> None:
    scores = pl.DataFrame(
        {
            "model": ["m", "m", "n", None],
            "score": [118.0, 126.0, 121.0, 140.0],
            "released_on": [date(2023, 3, 1), date(2024, 5, 1), date(2023, 9, 1), date(2024, 1, 1)],
        }
    )
    catalog = pl.DataFrame(
        {"model": ["m", "n"], "release_date": [date(2023, 3, 1)] * 2, "chat": [True, True]}
    )
    intervals = threshold_membership(scores, catalog, 120.0)
    starts = dict(zip(intervals["model"], intervals["valid_from"], strict=True))
    assert starts == {"m": _utc(2024, 5, 1), "n": _utc(2023, 9, 1)}


def test_prices_at_takes_each_models_cheapest_blend_in_effect() -> None:
    frame = _versions()
    prices = prices_at(frame, _utc(2024, 6, 1)).sort("model")
    # (3 * 4 + 8) / 4 = 5 and (3 * 1 + 2) / 4 = 1.25
    assert prices["usd_per_mtok"].to_list() == [5.0, 1.25]
    assert prices_at(frame, _utc(2023, 6, 1)).is_empty()
