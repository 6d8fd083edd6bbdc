"""The GPU index method on hand-built frames with answers worked out by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest

from costcurve.analytics.gpu_index import (
    IndexMethod,
    capped_weights,
    compute_prints,
    quantile,
    weighted_median,
)

DAY1 = datetime(2026, 3, 1, tzinfo=UTC)
GPU = "H100-SXM-80GB"


def versions(rows: Sequence[Mapping[str, object]]) -> pl.DataFrame:
    """Versions seen at DAY1 00:00 and open, unless a row says otherwise."""
    base = {
        "version_id": 0,
        "source": "gpu-daily",
        "gpu": GPU,
        "gpu_count": 1,
        "pricing": "on_demand",
        "region": None,
        "statistic": None,
        "offer_count": 1,
        "valid_from": DAY1,
        "valid_to": None,
        "last_seen_at": DAY1,
    }
    filled = [{**base, "version_id": i, **r} for i, r in enumerate(rows)]
    frame = pl.DataFrame(
        filled,
        schema_overrides={
            "valid_to": pl.Datetime("us", "UTC"),
            "valid_from": pl.Datetime("us", "UTC"),
            "last_seen_at": pl.Datetime("us", "UTC"),
        },
    )
    return frame.with_columns(pl.col("usd_per_gpu_hour").cast(pl.Decimal(38, 12)))


def day_prints(frame: pl.DataFrame, method: IndexMethod | None = None, days: int = 1) -> list:
    prints = compute_prints(frame, "day", DAY1, DAY1 + timedelta(days=days), method)
    return [p for p in prints if p.segment == "all"]


def test_provider_price_is_the_median_over_its_regions_and_sizes() -> None:
    frame = versions(
        [
            {"provider": "a", "usd_per_gpu_hour": "2.00", "region": "us"},
            {"provider": "a", "usd_per_gpu_hour": "3.00", "region": "eu"},
            {"provider": "a", "usd_per_gpu_hour": "10.00", "region": "jp", "gpu_count": 8},
            {"provider": "b", "usd_per_gpu_hour": "2.50"},
            {"provider": "c", "usd_per_gpu_hour": "2.60", "region": "us"},
            {"provider": "c", "usd_per_gpu_hour": "2.80", "region": "eu"},
        ]
    )
    [p] = day_prints(frame)
    prices = {c["provider"]: c["usd_per_gpu_hour"] for c in p.contributors}
    assert prices == {"a": Decimal("3.0000"), "b": Decimal("2.5000"), "c": Decimal("2.7000")}
    # equal weights (a has 3 listings but is capped at max(0.25, 1/3)): median of 2.5, 2.7, 3.0
    assert p.value == Decimal("2.7000")
    assert p.contributor_count == 3


def test_weight_cap_keeps_a_big_provider_from_moving_the_print() -> None:
    shares = capped_weights([100, 1, 1, 1, 1], 0.25)
    assert shares[0] == pytest.approx(0.25)
    assert shares[1:] == pytest.approx([0.1875] * 4)
    assert sum(shares) == pytest.approx(1.0)
    # Uncapped, the 100-listing provider alone would be the weighted median.
    assert weighted_median([9.0, 2.0, 2.1, 2.2, 2.3], [100, 1, 1, 1, 1]) == 9.0
    assert weighted_median([9.0, 2.0, 2.1, 2.2, 2.3], shares) == 2.2


def test_capped_weights_with_fewer_providers_than_the_cap_allows_are_equal() -> None:
    assert capped_weights([50, 1, 1], 0.25) == pytest.approx([1 / 3] * 3)


def test_weighted_median_takes_the_midpoint_on_an_exact_half() -> None:
    assert weighted_median([1.0, 2.0, 3.0, 4.0], [0.25] * 4) == 2.5


def test_dispersion_is_p10_and_p90_of_provider_prices() -> None:
    frame = versions(
        [{"provider": f"p{i}", "usd_per_gpu_hour": str(v)} for i, v in enumerate([2, 3, 4, 5, 6])]
    )
    [p] = day_prints(frame)
    assert (p.p10, p.p90) == (Decimal("2.4000"), Decimal("5.6000"))
    assert quantile([2, 3, 4, 5, 6], 0.1) == pytest.approx(2.4)


def test_fewer_than_the_minimum_contributors_is_withheld_with_the_reason() -> None:
    frame = versions(
        [
            {"provider": "a", "usd_per_gpu_hour": "2.00"},
            {"provider": "b", "usd_per_gpu_hour": "2.20"},
        ]
    )
    [p] = day_prints(frame)
    assert p.value is None
    assert p.p10 is None
    assert p.withheld_reason == "min_contributors: 2 of 3 required"
    assert [c["provider"] for c in p.contributors] == ["a", "b"]


def test_outlier_is_excluded_with_its_reason_and_can_withhold_the_print() -> None:
    frame = versions(
        [
            {"provider": "a", "usd_per_gpu_hour": "2.00"},
            {"provider": "b", "usd_per_gpu_hour": "2.20"},
            {"provider": "c", "usd_per_gpu_hour": "2.40"},
            {"provider": "z", "usd_per_gpu_hour": "40.00"},
        ]
    )
    [p] = day_prints(frame)
    assert [x["provider"] for x in p.excluded] == ["z"]
    assert "outlier" in p.excluded[0]["reason"]
    assert p.value == Decimal("2.2000")
    assert p.contributor_count == 3
    [withheld] = day_prints(frame, IndexMethod(min_contributors=4))
    assert withheld.value is None
    assert withheld.contributor_count == 3


def test_stale_offers_past_the_freshness_horizon_never_contribute() -> None:
    frame = versions(
        [
            {"provider": "a", "usd_per_gpu_hour": "2.00"},
            {"provider": "b", "usd_per_gpu_hour": "2.20"},
            {"provider": "c", "usd_per_gpu_hour": "2.40"},
            # last seen three days before: past the 48 h default horizon on DAY1's close
            {
                "provider": "old",
                "usd_per_gpu_hour": "3.00",
                "valid_from": DAY1 - timedelta(days=30),
                "last_seen_at": DAY1 - timedelta(days=3),
            },
        ]
    )
    [p] = day_prints(frame)
    assert "old" not in {c["provider"] for c in p.contributors}
    longer = IndexMethod(default_freshness=timedelta(days=5))
    [q] = day_prints(frame, longer)
    assert "old" in {c["provider"] for c in q.contributors}


def test_a_closed_version_stops_contributing_after_its_end() -> None:
    frame = versions(
        [
            {"provider": "a", "usd_per_gpu_hour": "2.00", "last_seen_at": DAY1 + timedelta(3)},
            {"provider": "b", "usd_per_gpu_hour": "2.20", "last_seen_at": DAY1 + timedelta(3)},
            {"provider": "c", "usd_per_gpu_hour": "2.40", "valid_to": DAY1 + timedelta(days=1)},
        ]
    )
    prints = day_prints(frame, days=3)
    assert [p.contributor_count for p in prints] == [3, 2, 2]


def test_sub_indices_split_hyperscalers_neoclouds_and_marketplaces() -> None:
    frame = versions(
        [
            {"provider": p, "usd_per_gpu_hour": v}
            for p, v in [
                ("aws", "6"),
                ("azure", "7"),
                ("gcp", "8"),
                ("lambda", "3"),
                ("vastai", "2"),
            ]
        ]
    )
    prints = compute_prints(frame, "day", DAY1, DAY1 + timedelta(days=1))
    by_segment = {p.segment: p for p in prints}
    assert by_segment["hyperscaler"].value == Decimal("7.0000")
    assert by_segment["neocloud"].withheld_reason == "min_contributors: 1 of 3 required"
    assert by_segment["all"].contributor_count == 5
    assert all(p.method_version == IndexMethod().version for p in prints)


def test_hourly_prints_use_only_sub_daily_sources() -> None:
    frame = versions(
        [
            {"provider": p, "usd_per_gpu_hour": "2", "source": "gpu-marketplace"}
            for p in ("a", "b", "c")
        ]
        + [{"provider": "d", "usd_per_gpu_hour": "2", "source": "gpu-daily"}]
    )
    prints = compute_prints(frame, "hour", DAY1, DAY1 + timedelta(hours=2))
    assert {p.contributor_count for p in prints if p.segment == "all"} == {3}
