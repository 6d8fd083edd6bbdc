"""The GPU history parsers' rules on small constructed inputs (the real files are
covered in tests/test_gpu_index_store.py)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from costcurve.core.observations import ParseError
from scrapers.history import gpu_daily, gpu_marketplace, gpu_ratecards

HEADER = ",".join(gpu_daily.COLUMNS)


def daily(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows]).encode() + b"\n"


def row(provider: str = "vast.ai", gpu: str = "H100_SXM", region: str = "US", **kw: str) -> str:
    v = {"type": "on_demand", "lo": "1.5", "mid": "2", "hi": "3", "n": "4"} | kw
    return (
        f"2026-05-08,{provider},{gpu},8,{region},{v['type']},{v['lo']},{v['mid']},{v['hi']},"
        f"{v['n']},https://console.vast.ai/api/v0/bundles/,2026-05-08T21:00:00+00:00"
    )


def test_a_row_over_several_offers_is_min_median_max_under_the_dataset_source() -> None:
    rates = gpu_daily.parse(daily(row())).rates
    assert [(r.statistic, r.usd_per_gpu_hour) for r in rates] == [
        ("min", Decimal("1.5")),
        ("median", Decimal("2")),
        ("max", Decimal("3")),
    ]
    first = rates[0]
    assert (first.source, first.provider, first.gpu, first.gpu_count) == (
        "gpu-daily",
        "vastai",
        "H100-SXM-80GB",
        8,
    )
    assert first.offer_count == 4
    assert first.observed_at.isoformat() == "2026-05-08T00:00:00+00:00"
    assert first.source_url == "https://console.vast.ai/api/v0/bundles/"


def test_a_row_over_one_offer_is_one_observation_and_runpod_community_is_community() -> None:
    [rate] = gpu_daily.parse(daily(row("runpod", region="community", n="1"))).rates
    assert rate.statistic is None
    assert rate.pricing == "community"
    assert rate.region == "community"


def test_unplaceable_rows_are_counted_by_reason_never_dropped_silently() -> None:
    parsed = gpu_daily.parse(
        daily(row(), row("vastai"), row(gpu="H9000"), row(type="reserved"), row("x", lo="0"))
    )
    assert len(parsed.rates) == 3
    assert parsed.skipped == {
        "a second row for one offering on one date": 1,
        "unknown GPU 'H9000'": 1,
        "unknown rental_type 'reserved'": 1,
        "non-positive price": 1,
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"a,b\n1,2\n", "expected columns"),
        (daily(), "no rows"),
        (daily(row(lo="cheap")), "line 2"),
    ],
)
def test_daily_structure_errors_are_parse_errors(raw: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        gpu_daily.parse(raw)


def test_marketplace_line_gives_min_and_avg_per_provider_as_community() -> None:
    line = {
        "timestamp": "2025-10-19T21:01:58+00:00",
        "gpu_type": "H100_80GB",
        "socket_type": "SXM5",
        "by_provider": {"lambdalabs": {"count": 2, "min": 2.99, "avg": 3.1}},
    }
    rates = gpu_marketplace.parse(json.dumps(line).encode()).rates
    assert [(r.provider, r.statistic, r.usd_per_gpu_hour) for r in rates] == [
        ("lambda", "min", Decimal("2.99")),
        ("lambda", "avg", Decimal("3.1")),
    ]
    assert {r.pricing for r in rates} == {"community"}
    assert rates[0].gpu == "H100-SXM-80GB"
    with pytest.raises(ParseError, match="not a snapshot"):
        gpu_marketplace.parse(b'{"timestamp": "x"}\n')


def test_ratecards_give_restated_votes_and_published_values() -> None:
    header = "period,index_code,status,value,provider_count,providers"
    raw = (
        f"{header}\n2026-04,GIX-H100,published,2.9930,2,lambda=3.990;runpod=2.867\n"
        "2026-04,GIX-B200,withheld,,1,lambda=5.5\n"
    ).encode()
    rates = gpu_ratecards.parse(raw).rates
    assert [(r.gpu, r.provider, r.statistic) for r in rates] == [
        ("H100-SXM-80GB", "lambda", "restated_vote"),
        ("H100-SXM-80GB", "runpod", "restated_vote"),
        ("H100-SXM-80GB", "gpuidx", "index_value"),
        ("B200-SXM-180GB", "lambda", "restated_vote"),
    ]
    assert rates[2].offer_count == 2
