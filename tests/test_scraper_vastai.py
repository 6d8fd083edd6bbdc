from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import httpx
import pytest

from costcurve.catalog.gpus import KNOWN_GPUS, canonical_gpu
from costcurve.core.observations import GpuRate
from scrapers import ParseError, vastai
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("vastai")


def _id(path: Path | None) -> str:
    return path.name if path else "absent"


def _parse(path: Path) -> list[GpuRate]:
    return vastai.parse(path.read_bytes(), observed_at=observed_at_for(path))


QUANTILES = {"min": Fraction(0), "p10": Fraction(1, 10), "median": Fraction(1, 2)}


def _recompute(path: Path) -> dict[tuple[str, str, str], tuple[Decimal, int]]:
    """The documented method, written out independently with exact fractions."""
    books: defaultdict[tuple[str, str], list[Fraction]] = defaultdict(list)
    for line in path.read_text().splitlines():
        offer = json.loads(line)
        if Fraction(str(offer["reliability2"])) < Fraction(95, 100):
            continue
        gpu = canonical_gpu(offer["gpu_name"], round(offer["gpu_ram"] / 1024))
        if gpu is None:
            continue
        pricing = {"on-demand": "on_demand", "bid": "spot"}[offer["rental_type"]]
        books[(gpu, pricing)].append(Fraction(str(offer["dph_total"])) / offer["num_gpus"])
    out = {}
    for (gpu, pricing), prices in books.items():
        prices.sort()
        n = len(prices)
        for statistic, p in (
            ("min", Fraction(0)),
            ("p10", Fraction(1, 10)),
            ("median", Fraction(1, 2)),
        ):
            chosen = prices[max(math.ceil(p * n), 1) - 1]
            with localcontext() as ctx:
                ctx.prec = 50
                exact = Decimal(chosen.numerator) / Decimal(chosen.denominator)
            value = exact.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)
            out[(gpu, pricing, statistic)] = (value, n)
    return out


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_vastai_aggregates_match_an_independent_recomputation(path: Path) -> None:
    obs = _parse(path)
    got = {(o.gpu, o.pricing, o.statistic): (o.usd_per_gpu_hour, o.offer_count) for o in obs}
    assert got == _recompute(path)
    assert len(got) > 100


EXPECTED = {
    "search_asks_offers_trimmed_2026-07-20.jsonl": {
        ("H100-SXM-80GB", "on_demand", "min"): ("1.920787", 14),
        ("H100-SXM-80GB", "on_demand", "p10"): ("1.923148", 14),
        ("H100-SXM-80GB", "on_demand", "median"): ("2.201481", 14),
        ("H100-SXM-80GB", "spot", "min"): ("0.268519", 23),
        ("H100-NVL-94GB", "on_demand", "median"): ("2.001481", 6),
    },
    "search_asks_offers_trimmed_2026-07-27.jsonl": {
        ("H100-SXM-80GB", "on_demand", "min"): ("1.485556", 9),
        ("H100-SXM-80GB", "on_demand", "median"): ("2.268148", 9),
        ("H100-SXM-80GB", "spot", "min"): ("0.934074", 12),
        ("H100-PCIE-80GB", "on_demand", "min"): ("0.935556", 3),
    },
}


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_vastai_h100_statistics(path: Path) -> None:
    got: dict[tuple[str, str, str | None], GpuRate] = {
        (o.gpu, o.pricing, o.statistic): o for o in _parse(path)
    }
    for key, (price, count) in EXPECTED[path.name].items():
        assert got[key].usd_per_gpu_hour == Decimal(price), key
        assert got[key].offer_count == count


def test_parse_vastai_drops_offers_below_min_reliability() -> None:
    path = next(p for p in FILES if p and "2026-07-20" in p.name)
    cheap_flaky = [
        json.loads(line)
        for line in path.read_text().splitlines()
        if '"H100 SXM"' in line and '"on-demand"' in line
    ]
    flaky = [o for o in cheap_flaky if o["reliability2"] < 0.95]
    assert flaky, "the recording has an H100 SXM on-demand offer below 0.95"
    got: dict[tuple[str, str, str | None], GpuRate] = {
        (o.gpu, o.pricing, o.statistic): o for o in _parse(path)
    }
    floor = got[("H100-SXM-80GB", "on_demand", "min")].usd_per_gpu_hour
    assert any(Decimal(str(o["dph_total"])) / o["num_gpus"] < floor for o in flaky)
    assert Decimal("0.95") == vastai.MIN_RELIABILITY


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_vastai_never_reports_bid_offers_as_on_demand(path: Path) -> None:
    on_demand_prices = {
        Fraction(str(o["dph_total"])) / o["num_gpus"]
        for o in map(json.loads, path.read_text().splitlines())
        if o["rental_type"] == "on-demand"
    }
    for o in _parse(path):
        if o.pricing == "on_demand":
            # every on-demand statistic is the (rounded) price of an on-demand offer
            assert any(
                abs(Fraction(str(o.usd_per_gpu_hour)) - p) <= Fraction(1, 2_000_000)
                for p in on_demand_prices
            )
    pricings = Counter(o.pricing for o in _parse(path))
    assert set(pricings) == {"on_demand", "spot"}


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_vastai_snapshot_invariants(path: Path) -> None:
    raw = path.read_bytes()
    obs = vastai.parse(raw, observed_at=observed_at_for(path))
    assert obs == vastai.parse(raw, observed_at=observed_at_for(path))
    assert max(Counter(o.offering_key() for o in obs).values()) == 1
    for o in obs:
        assert isinstance(o.usd_per_gpu_hour, Decimal)
        assert o.usd_per_gpu_hour >= 0
        assert o.gpu in KNOWN_GPUS
        assert o.gpu_count == 1
        assert o.statistic in {"min", "p10", "median"}
        assert o.offer_count is not None
        assert o.offer_count >= 1
        assert o.usd_per_instance_hour is None
        assert o.observed_at == observed_at_for(path)
    by = {(o.gpu, o.pricing, o.statistic): o.usd_per_gpu_hour for o in obs}
    for gpu, pricing, statistic in by:
        if statistic == "median":
            assert (
                by[(gpu, pricing, "min")]
                <= by[(gpu, pricing, "p10")]
                <= by[(gpu, pricing, statistic)]
            )


def test_nearest_rank_is_one_based_ceiling() -> None:
    values = [Decimal(v) for v in range(1, 11)]
    assert vastai.nearest_rank(values, Decimal(0)) == 1
    assert vastai.nearest_rank(values, Decimal("0.1")) == 1
    assert vastai.nearest_rank(values, Decimal("0.5")) == 5
    assert vastai.nearest_rank(values[:9], Decimal("0.5")) == 5
    assert vastai.nearest_rank(values[:9], Decimal("0.1")) == 1
    assert vastai.nearest_rank([*values, Decimal(11)], Decimal("0.1")) == 2


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Just a moment...</title></html>",
        b'{"offers": []}',
        b'{"id": 1, "gpu_name": "RTX 4090"}\n',
        b'{"id": 1, "gpu_name": "RTX 4090", "num_gpus": 1, "dph_total": 0.3, '
        b'"reliability2": 0.99, "rental_type": "reserved"}\n',
        b"not json\n",
    ],
)
def test_parse_vastai_rejects_unexpected_documents(raw: bytes) -> None:
    with pytest.raises(ParseError):
        vastai.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))


def test_fetch_vastai_sweeps_both_books_into_json_lines() -> None:
    book = [
        {"id": i, "gpu_name": "RTX 4090", "num_gpus": 1, "dph_total": 0.3 + i / 100}
        for i in range(3)
    ]
    queries: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        q = json.loads(request.content)["q"]
        queries.append(q)
        floor = q.get("dph_total", {}).get("gte", 0)
        return httpx.Response(200, json={"offers": [o for o in book if o["dph_total"] >= floor]})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        lines = vastai.fetch(client).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert Counter(r["rental_type"] for r in records) == {"on-demand": 3, "bid": 3}
    assert {q["type"] for q in queries} == {"on-demand", "bid"}
    assert all(q["rentable"] == {"eq": True} for q in queries)
