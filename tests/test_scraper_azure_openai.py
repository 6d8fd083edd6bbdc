"""azure_openai: Retail Prices token meters, per-1K converted exactly, deployments apart."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from scrapers import ParseError
from scrapers import azure_openai as source
from scrapers.registry import parse_source
from tests.support import fixture_files, observed_at_for, only_llm, parse_recorded

FILES = fixture_files("azure_openai")
FIELDS = {"input": "input_usd_per_mtok", "output": "output_usd_per_mtok"}


def _items(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line, parse_float=Decimal) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_every_token_meter_is_converted_exactly_into_its_offering(path: Path) -> None:
    obs = parse_recorded("azure_openai", path)
    assert max(Counter(o.offering_key() for o in obs).values()) == 1
    by_key = {(o.provider_model_id, o.variant, o.deployment, o.region, o.modality): o for o in obs}
    checked = 0
    for item in _items(path):
        meter = source.read_meter(item["meterName"])
        scale = {"1K": 1000, "1M": 1}.get(item["unitOfMeasure"])
        starts_later = item["effectiveStartDate"] > observed_at_for(path).isoformat()
        if meter is None or scale is None or item.get("effectiveEndDate") or starts_later:
            continue
        variant = "batch" if meter.batch else "standard"
        key = (meter.model, variant, meter.deployment, item["armRegionName"], meter.modality)
        if key not in by_key:  # cached-only groups have no input/output price of their own
            continue
        o = by_key[key]
        field = "cached_input_usd_per_mtok" if meter.cached else FIELDS[meter.direction]
        assert getattr(o, field) == item["retailPrice"] * scale, item["meterName"]
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_global_data_zone_and_regional_are_kept_apart(path: Path) -> None:
    obs = parse_recorded("azure_openai", path)
    deployments: dict[tuple[str, str | None], set[str | None]] = {}
    for o in obs:
        deployments.setdefault((o.provider_model_id, o.region), set()).add(o.deployment)
    assert any(len(d) >= 2 for d in deployments.values())
    assert {o.deployment for o in obs} <= {"global", "data-zone", "regional", None}
    assert {o.provider for o in obs} == {"azure"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_provisioned_fine_tuning_and_non_token_meters_are_left_out(path: Path) -> None:
    obs = parse_recorded("azure_openai", path)
    ids = {o.provider_model_id for o in obs}
    assert not any("provisioned" in i or "-ft" in i or "hosting" in i for i in ids)
    assert len(obs) < sum(1 for i in _items(path) if i["unitOfMeasure"] in {"1K", "1M"})


def test_a_per_1k_meter_converts_exactly_and_meter_names_resolve() -> None:
    item = {
        "meterName": "R1 Inp glbl Tokens",
        "retailPrice": 0.00135,
        "unitOfMeasure": "1K",
        "armRegionName": "eastus",
        "tierMinimumUnits": 0.0,
    }
    out_item = item | {"meterName": "R1 Outp glbl Tokens", "retailPrice": 0.0054}
    raw = "\n".join(json.dumps(i) for i in (item, out_item)).encode()
    (o,) = only_llm(
        parse_source("azure_openai", raw, observed_at=observed_at_for(Path("x_2026-01-01")))
    )
    assert (o.input_usd_per_mtok, o.output_usd_per_mtok) == (Decimal("1.35"), Decimal("5.4"))
    assert (o.model, o.deployment, o.region) == ("deepseek-r1", "global", "eastus")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gpt 4o 0806 Batch Outp Data Zone Tokens", ("gpt-4o-0806", "output", True, "data-zone")),
        ("o3 mini 0131 cached input glbl Tokens", ("o3-mini-0131", "input", False, "global")),
        ("GPT 5 Mini Inpt Glbl 1M Tokens", ("gpt-5-mini", "input", False, "global")),
        ("gpt-4o-mini-0718-Outp-regnl Tokens", ("gpt-4o-mini-0718", "output", False, "regional")),
    ],
)
def test_meter_names_split_into_model_and_markers(name: str, expected: tuple) -> None:
    meter = source.read_meter(name)
    assert meter is not None
    assert (meter.model, meter.direction, meter.batch, meter.deployment) == expected


@pytest.mark.parametrize(
    "name", ["gpt-4.1-ft input global Tokens", "Provisioned Throughput - Available Unit"]
)
def test_fine_tuning_and_capacity_meters_are_not_list_prices(name: str) -> None:
    assert source.read_meter(name) is None


@pytest.mark.parametrize(
    "raw",
    [b"<html>Access Denied</html>", b'{"Items": []}', b'[{"meterName": "x"}]', b"[]"],
)
def test_unexpected_documents_are_parse_errors(raw: bytes) -> None:
    with pytest.raises(ParseError):
        source.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))


def test_fetch_follows_next_page_links_into_one_ndjson_snapshot() -> None:
    item = {
        "meterName": "gpt 4.1 Inp glbl Tokens",
        "retailPrice": 0.002,
        "unitOfMeasure": "1K",
        "armRegionName": "eastus",
    }
    pages = {
        None: {"Items": [item], "NextPageLink": "https://prices.azure.com/api/retail/prices?p=2"},
        "2": {"Items": [item | {"armRegionName": "westus"}], "NextPageLink": None},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("p")
        if page is None:
            assert "Azure OpenAI" in request.url.params["$filter"]
        return httpx.Response(200, json=pages[page])

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        raw = source.fetch(client)
    obs = source.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))
    assert sorted(o.region or "" for o in obs) == ["eastus", "westus"]
    assert {o.input_usd_per_mtok for o in obs} == {Decimal("2")}


def test_ended_and_announced_meters_are_not_current_prices() -> None:
    base = {"meterName": "gpt 4.1 Inp glbl Tokens", "unitOfMeasure": "1K", "armRegionName": "x"}
    items = [
        base | {"retailPrice": 0.002, "effectiveStartDate": "2025-01-01T00:00:00Z"},
        base
        | {
            "armRegionName": "y",
            "retailPrice": 0.003,
            "effectiveStartDate": "2024-01-01T00:00:00Z",
            "effectiveEndDate": "2025-01-01T00:00:00Z",
        },
        base
        | {
            "armRegionName": "z",
            "retailPrice": 0.001,
            "effectiveStartDate": "2027-01-01T00:00:00Z",
        },
    ]
    raw = "\n".join(json.dumps(i) for i in items).encode()
    (o,) = source.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))
    assert (o.region, o.input_usd_per_mtok) == ("x", Decimal("2"))
