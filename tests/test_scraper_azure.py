from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from costcurve.catalog.gpus import KNOWN_GPUS
from costcurve.core.observations import GpuRate
from scrapers import ParseError, azure
from tests.support import fixture_files

FILES = fixture_files("azure")
GPU_FILES = fixture_files("azure", "*gpu_items*")


def _id(path: Path | None) -> str:
    return path.name if path else "absent"


# The recordings carry no capture date (README: ~2026-09/10).
OBSERVED = datetime(2026, 10, 1, tzinfo=UTC)


def _parse(path: Path) -> list[GpuRate]:
    return azure.parse(path.read_bytes(), observed_at=OBSERVED)


def _items(path: Path) -> list[dict]:
    doc = json.loads(path.read_bytes())
    return doc["Items"] if isinstance(doc, dict) else doc


def _by_key(obs: list[GpuRate]) -> dict[tuple[str | None, str | None, str | None, str], GpuRate]:
    return {(o.instance_type, o.region, o.os, o.pricing): o for o in obs}


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_azure_gpu_items_or_reject_a_page_without_gpu_skus(path: Path) -> None:
    skus = {i["armSkuName"] for i in _items(path)}
    if not skus & set(azure.VM_GPUS):
        with pytest.raises(ParseError, match="no GPU SKUs"):
            _parse(path)
    else:
        assert len(_parse(path)) > 50


@pytest.mark.parametrize("path", GPU_FILES, ids=_id)
def test_parse_azure_reads_each_meter_price_exactly(path: Path) -> None:
    by_key = _by_key(_parse(path))
    checked = 0
    for item in _items(path):
        meter = item["meterName"]
        os = "windows" if "Windows" in item["productName"] else "linux"
        pricing = _pricing(meter)
        rate = by_key[(item["armSkuName"], item["armRegionName"], os, pricing)]
        gpu, count = azure.VM_GPUS[item["armSkuName"]]
        assert (rate.gpu, rate.gpu_count) == (gpu, count)
        price = Decimal(str(item["retailPrice"]))
        assert rate.usd_per_gpu_hour * count == price
        checked += 1
    assert checked == len(_parse(path))


@pytest.mark.parametrize("path", GPU_FILES, ids=_id)
def test_parse_azure_specific_prices(path: Path) -> None:
    by_key = _by_key(_parse(path))
    nd_h100 = by_key[("Standard_ND96isr_H100_v5", "eastus", "linux", "on_demand")]
    assert (nd_h100.gpu, nd_h100.gpu_count) == ("H100-SXM-80GB", 8)
    assert nd_h100.usd_per_instance_hour == Decimal("98.32")
    assert nd_h100.usd_per_gpu_hour == Decimal("12.29")
    win = by_key[("Standard_ND96isr_H100_v5", "centralus", "windows", "on_demand")]
    assert win.usd_per_gpu_hour == Decimal("15.66875")
    nc_h100 = by_key[("Standard_NC80adis_H100_v5", "westeurope", "linux", "on_demand")]
    assert (nc_h100.gpu, nc_h100.usd_per_gpu_hour) == ("H100-NVL-94GB", Decimal("9.08"))
    low_priority = by_key[
        ("Standard_NC80adis_H100_v5", "germanywestcentral", "linux", "low_priority")
    ]
    assert low_priority.usd_per_gpu_hour == Decimal("1.815")
    assert ("Standard_NC80adis_H100_v5", "germanywestcentral", "linux", "spot") not in by_key
    mi300x = by_key[("Standard_ND96isr_MI300X_v5", "northeurope", "linux", "on_demand")]
    assert (mi300x.gpu, mi300x.usd_per_gpu_hour) == ("MI300X-192GB", Decimal("7.2"))
    a100 = by_key[("Standard_NC24ads_A100_v4", "eastus", "linux", "spot")]
    assert (a100.gpu, a100.usd_per_gpu_hour) == ("A100-PCIE-80GB", Decimal("0.67877"))


@pytest.mark.parametrize("path", GPU_FILES, ids=_id)
def test_parse_azure_keeps_low_priority_apart_from_spot(path: Path) -> None:
    key = ("Standard_ND96amsr_A100_v4", "italynorth", "windows", "spot")
    meters = {
        i["meterName"]: i["retailPrice"]
        for i in _items(path)
        if (i["armSkuName"], i["armRegionName"]) == key[:2] and "Windows" in i["productName"]
    }
    assert {"ND96amsr A100 v4 Spot", "ND96amsr A100 v4 Low Priority"} <= set(meters)
    rates = _by_key(_parse(path))
    assert rates[key].usd_per_instance_hour == Decimal(str(meters["ND96amsr A100 v4 Spot"]))
    low = rates[(*key[:3], "low_priority")]
    assert low.usd_per_instance_hour == Decimal(str(meters["ND96amsr A100 v4 Low Priority"]))


def _pricing(meter: str) -> str:
    if meter.endswith(" Low Priority"):
        return "low_priority"
    return "spot" if meter.endswith(" Spot") else "on_demand"


@pytest.mark.parametrize("path", GPU_FILES, ids=_id)
def test_parse_azure_never_mixes_windows_into_linux_or_spot_into_on_demand(path: Path) -> None:
    def meters(item: dict) -> tuple[str, str]:
        os = "windows" if "Windows" in item["productName"] else "linux"
        return os, _pricing(item["meterName"])

    obs = _parse(path)
    assert {o.os for o in obs} == {"linux", "windows"}
    assert {o.pricing for o in obs} == {"on_demand", "spot", "low_priority"}
    for o in obs:
        sources = [
            meters(i)
            for i in _items(path)
            if (i["armSkuName"], i["armRegionName"]) == (o.instance_type, o.region)
            and Decimal(str(i["retailPrice"])) == o.usd_per_instance_hour
        ]
        assert (o.os, o.pricing) in sources, o


@pytest.mark.parametrize("path", GPU_FILES, ids=_id)
def test_parse_azure_snapshot_invariants(path: Path) -> None:
    raw = path.read_bytes()
    obs = azure.parse(raw, observed_at=OBSERVED)
    assert obs == azure.parse(raw, observed_at=OBSERVED)
    assert max(Counter(o.offering_key() for o in obs).values()) == 1
    for o in obs:
        assert isinstance(o.usd_per_gpu_hour, Decimal)
        assert o.usd_per_gpu_hour > 0
        assert o.gpu in KNOWN_GPUS
        assert o.region
        assert o.instance_type
        assert o.observed_at == OBSERVED


@pytest.mark.parametrize("path", GPU_FILES, ids=_id)
def test_parse_azure_accepts_the_api_envelope(path: Path) -> None:
    envelope = {"BillingCurrency": "USD", "Items": _items(path), "NextPageLink": None}
    assert azure.parse(json.dumps(envelope).encode(), observed_at=OBSERVED) == _parse(path)


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Just a moment...</title></html>",
        b'{"Items": [], "NextPageLink": null}',
        b'{"error": {"code": "BadRequest"}}',
        b'[{"armRegionName": "eastus"}]',
        b'{"BillingCurrency": "EUR", "Items": []}',
    ],
)
def test_parse_azure_rejects_unexpected_documents(raw: bytes) -> None:
    with pytest.raises(ParseError):
        azure.parse(raw, observed_at=OBSERVED)


def test_azure_vm_table_names_known_gpus() -> None:
    for sku, (gpu, count) in azure.VM_GPUS.items():
        assert sku.startswith("Standard_")
        assert gpu in KNOWN_GPUS
        assert count >= 1


def test_fetch_azure_filters_gpu_sizes_and_follows_next_page_links() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if "$skip" not in str(request.url):
            nxt = "https://prices.azure.com/api/retail/prices?$filter=x&$skip=100"
            return httpx.Response(200, json={"Items": [{"n": 1}], "NextPageLink": nxt})
        return httpx.Response(200, json={"Items": [{"n": 2}], "NextPageLink": None})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        doc = json.loads(azure.fetch(client))
    assert doc["Items"] == [{"n": 1}, {"n": 2}]
    assert doc["NextPageLink"] is None
    first_filter = seen[0].params["$filter"]
    assert "serviceName eq 'Virtual Machines'" in first_filter
    assert "armSkuName eq 'Standard_ND96isr_H100_v5'" in first_filter
    assert len(seen) == 2
