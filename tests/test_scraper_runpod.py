from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from costcurve.catalog.gpus import KNOWN_GPUS
from costcurve.core.observations import GpuRate
from scrapers import ParseError, runpod
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("runpod")
GRAPHQL = fixture_files("runpod", "graphql_*.json")


def _id(path: Path | None) -> str:
    return path.name if path else "absent"


# (pricing, GPU) -> price, read from each recorded file.
EXPECTED: dict[str, dict[tuple[str, str], str]] = {
    "graphql_gpuTypes_2026-07-28.json": {
        ("on_demand", "H100-SXM-80GB"): "2.99",
        ("community", "H100-SXM-80GB"): "2.69",
        ("on_demand", "RTXPRO4500-32GB"): "0.74",
        ("on_demand", "B200-SXM-180GB"): "5.89",
        ("reserved_3m", "RTX5000ADA-32GB"): "0.71",
    },
    "graphql_gpuTypes_2026-07-30.json": {
        ("on_demand", "H100-SXM-80GB"): "2.99",
        ("on_demand", "RTXPRO4500-32GB"): "0.74",
    },
    "graphql_gpuTypes_2026-08-01.json": {
        ("on_demand", "H100-SXM-80GB"): "2.99",
        ("on_demand", "RTXPRO4500-32GB"): "0.74",
    },
    "graphql_gpuTypes_2026-08-03.json": {
        ("on_demand", "H100-SXM-80GB"): "2.99",
        ("on_demand", "RTXPRO4500-32GB"): "0.74",
        ("on_demand", "B200-SXM-180GB"): "5.89",
        ("on_demand", "A100-SXM-80GB"): "1.49",
    },
    "graphql_gpuTypes_2026-08-05.json": {
        ("on_demand", "H100-SXM-80GB"): "3.29",
        ("community", "H100-SXM-80GB"): "2.69",
        ("reserved_6m", "H100-SXM-80GB"): "3.29",
        ("on_demand", "RTXPRO4500-32GB"): "0.72",
        ("on_demand", "B200-SXM-180GB"): "6.79",
        ("on_demand", "A100-SXM-80GB"): "1.59",
        ("community", "A100-SXM-40GB"): "1",
        ("reserved_3m", "MI300X-192GB"): "2.39",
        ("on_demand", "RTXPRO6000-WS-96GB"): "1.89",
        ("on_demand", "RTXPRO6000-96GB"): "2.09",
    },
    "runpod_io_pricing_excerpt_wayback_20250909131230.html": {
        ("on_demand", "H200-SXM-141GB"): "3.79",
        ("community", "H200-SXM-141GB"): "3.59",
        ("on_demand", "B200-SXM-180GB"): "5.99",
        ("on_demand", "H100-NVL-94GB"): "2.79",
        ("on_demand", "H100-PCIE-80GB"): "2.39",
        ("community", "H100-PCIE-80GB"): "1.99",
        ("on_demand", "H100-SXM-80GB"): "2.69",
    },
    "runpod_io_pricing_ldjson_excerpt_wayback_20260810082317.html": {
        ("on_demand", "B300-SXM-288GB"): "7.39",
        ("community", "B300-SXM-288GB"): "6.94",
        ("on_demand", "H100-SXM-80GB"): "2.99",
        ("community", "H100-SXM-80GB"): "2.69",
        ("on_demand", "A100-PCIE-80GB"): "1.39",
        ("on_demand", "A100-SXM-80GB"): "1.49",
        ("on_demand", "RTXPRO6000-96GB"): "1.99",
        ("on_demand", "L4-24GB"): "0.39",
        ("community", "L4-24GB"): "0.44",
        ("community", "RTXA5000-24GB"): "0.16",
    },
}
GRAPHQL_FIELDS = {
    "securePrice": "on_demand",
    "communityPrice": "community",
    "oneWeekPrice": "reserved_1w",
    "oneMonthPrice": "reserved_1m",
    "threeMonthPrice": "reserved_3m",
    "sixMonthPrice": "reserved_6m",
}


def _parse(path: Path) -> list[GpuRate]:
    return runpod.parse(path.read_bytes(), observed_at=observed_at_for(path))


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_runpod_reads_listed_prices_exactly(path: Path) -> None:
    obs = _parse(path)
    by_key: dict[tuple[str, str], Decimal] = {(o.pricing, o.gpu): o.usd_per_gpu_hour for o in obs}
    for key, price in EXPECTED[path.name].items():
        assert by_key[key] == Decimal(price), key


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_runpod_snapshot_invariants(path: Path) -> None:
    raw = path.read_bytes()
    obs = runpod.parse(raw, observed_at=observed_at_for(path))
    assert obs == runpod.parse(raw, observed_at=observed_at_for(path))
    assert len(obs) >= 10
    assert max(Counter(o.offering_key() for o in obs).values()) == 1
    for o in obs:
        assert isinstance(o.usd_per_gpu_hour, Decimal)
        assert o.usd_per_gpu_hour > 0
        assert o.gpu in KNOWN_GPUS
        assert o.gpu_count == 1
        assert o.usd_per_instance_hour == o.usd_per_gpu_hour
        assert o.observed_at == observed_at_for(path)
        assert o.provider == "runpod"
        assert o.statistic is None


@pytest.mark.parametrize("path", GRAPHQL, ids=_id)
def test_parse_runpod_graphql_matches_every_nonzero_price_in_the_file(path: Path) -> None:
    by_key: dict[tuple[str, str], Decimal] = {
        (o.pricing, o.gpu): o.usd_per_gpu_hour for o in _parse(path)
    }
    entries = {e["id"]: e for e in json.loads(path.read_bytes())}
    h100 = entries["NVIDIA H100 80GB HBM3"]
    checked = 0
    for field, pricing in GRAPHQL_FIELDS.items():
        value = h100[field]
        if value:
            assert by_key[(pricing, "H100-SXM-80GB")] == Decimal(str(value))
            checked += 1
        else:
            assert (pricing, "H100-SXM-80GB") not in by_key  # null/0: not offered
    assert checked >= 4
    assert set(by_key)
    assert {p for p, _ in by_key} <= set(GRAPHQL_FIELDS.values())
    # null or 0 never becomes a price: the 40 GB A100 has securePrice 0.
    assert entries["NVIDIA A100-SXM4-40GB"]["securePrice"] == 0
    assert ("on_demand", "A100-SXM-40GB") not in by_key


@pytest.mark.parametrize("path", GRAPHQL, ids=_id)
def test_parse_runpod_skips_mig_slices_and_uncatalogued_types(path: Path) -> None:
    names = {e["id"] for e in json.loads(path.read_bytes())}
    assert any("MIG" in n for n in names)
    gpus = {o.gpu for o in _parse(path)}
    assert not any("MIG" in g or "unknown" in g for g in gpus)


def test_parse_runpod_accepts_the_full_graphql_envelope() -> None:
    path = next(p for p in GRAPHQL if p and "2026-08-05" in p.name)
    bare = json.loads(path.read_bytes())
    wrapped = json.dumps({"data": {"gpuTypes": bare}}).encode()
    observed = observed_at_for(path)
    assert runpod.parse(wrapped, observed_at=observed) == _parse(path)


def test_runpod_h100_secure_price_rises_between_captures() -> None:
    prices = {}
    for path in GRAPHQL:
        by_key: dict[tuple[str, str], Decimal] = {
            (o.pricing, o.gpu): o.usd_per_gpu_hour for o in _parse(path)
        }
        prices[path.name[17:27]] = by_key[("on_demand", "H100-SXM-80GB")]
    assert prices["2026-08-03"] == Decimal("2.99")
    assert prices["2026-08-05"] == Decimal("3.29")


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Just a moment...</title></html>",
        b'{"errors": [{"message": "unauthorized"}]}',
        b'{"data": {"gpuTypes": null}}',
        b'[{"displayName": "H100"}]',
        b"<html><body>Pricing coming soon</body></html>",
        b"not json {",
    ],
)
def test_parse_runpod_rejects_unexpected_documents(raw: bytes) -> None:
    with pytest.raises(ParseError):
        runpod.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))


def test_fetch_runpod_posts_the_full_query_then_falls_back_to_public_fields() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = json.loads(request.content)["query"]
        sent.append(query)
        if "oneWeekPrice" in query:
            return httpx.Response(200, json={"errors": [{"message": "unauthorized"}]})
        return httpx.Response(200, json={"data": {"gpuTypes": [{"id": "NVIDIA L4"}]}})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        raw = runpod.fetch(client)
    assert sent == [runpod.QUERY, runpod.PUBLIC_QUERY]
    assert "lowestPrice(input:{gpuCount:1})" in runpod.QUERY
    assert json.loads(raw)["data"]["gpuTypes"][0]["id"] == "NVIDIA L4"
