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
from scrapers import ParseError, aws
from tests.support import fixture_files

FILES = fixture_files("aws")


def _id(path: Path | None) -> str:
    return path.name if path else "absent"


# The recording carries no capture date (README: ~2026-09/10).
OBSERVED = datetime(2026, 10, 1, tzinfo=UTC)


def _parse(path: Path) -> list[GpuRate]:
    return aws.parse(path.read_bytes(), observed_at=OBSERVED)


def _by_key(obs: list[GpuRate]) -> dict[tuple[str | None, str | None], GpuRate]:
    return {(o.instance_type, o.region): o for o in obs}


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_aws_reads_every_entry_price_exactly(path: Path) -> None:
    by_key = _by_key(_parse(path))
    entries = [
        entry
        for document in json.loads(path.read_bytes()).values()
        for location_entries in document["regions"].values()
        for entry in location_entries.values()
    ]
    for entry in entries:
        rate = by_key[(entry["Instance Type"], aws.LOCATIONS[entry["Location"]])]
        gpu, count = aws.INSTANCE_GPUS[entry["Instance Type"]]
        assert (rate.gpu, rate.gpu_count) == (gpu, count)
        assert rate.usd_per_instance_hour == Decimal(entry["price"])
        assert rate.usd_per_gpu_hour * count == Decimal(entry["price"])
    assert len(by_key) == len(entries) == 51


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_aws_specific_prices(path: Path) -> None:
    by_key = _by_key(_parse(path))
    p5 = by_key[("p5.48xlarge", "us-east-1")]
    assert (p5.gpu, p5.gpu_count, p5.usd_per_gpu_hour) == ("H100-SXM-80GB", 8, Decimal("6.88"))
    assert p5.usd_per_instance_hour == Decimal("55.04")
    assert by_key[("p5.4xlarge", "us-east-1")].usd_per_gpu_hour == Decimal("6.88")
    assert by_key[("p5.48xlarge", "ap-northeast-1")].usd_per_gpu_hour == Decimal("8.6")
    p4d = by_key[("p4d.24xlarge", "us-east-1")]
    assert (p4d.gpu, p4d.usd_per_gpu_hour) == ("A100-SXM-40GB", Decimal("2.74470525"))
    p4de = by_key[("p4de.24xlarge", "us-west-2")]
    assert (p4de.gpu, p4de.usd_per_instance_hour) == ("A100-SXM-80GB", Decimal("27.44705"))
    b200 = by_key[("p6-b200.48xlarge", "us-east-1")]
    assert (b200.gpu, b200.usd_per_gpu_hour) == ("B200-SXM-180GB", Decimal("14.2416"))
    b300 = by_key[("p6-b300.48xlarge", "sa-east-1")]
    assert (b300.gpu, b300.usd_per_gpu_hour) == ("B300-SXM-288GB", Decimal("35.14125"))
    h200 = by_key[("p5en.48xlarge", "ap-south-1")]
    assert (h200.gpu, h200.usd_per_gpu_hour) == ("H200-SXM-141GB", Decimal("9.4944"))
    l40s = by_key[("g6e.12xlarge", "us-east-1")]
    assert (l40s.gpu, l40s.gpu_count, l40s.usd_per_gpu_hour) == ("L40S-48GB", 4, Decimal("2.62316"))
    assert by_key[("g6e.xlarge", "us-east-2")].usd_per_gpu_hour == Decimal("1.861")


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_aws_snapshot_invariants(path: Path) -> None:
    raw = path.read_bytes()
    obs = aws.parse(raw, observed_at=OBSERVED)
    assert obs == aws.parse(raw, observed_at=OBSERVED)
    assert max(Counter(o.offering_key() for o in obs).values()) == 1
    for o in obs:
        assert isinstance(o.usd_per_gpu_hour, Decimal)
        assert o.usd_per_gpu_hour > 0
        assert o.gpu in KNOWN_GPUS
        assert o.pricing == "on_demand"
        assert o.os == "linux"
        assert o.region in aws.LOCATIONS.values()
    assert {o.region for o in obs} == {
        "us-east-1", "us-east-2", "us-west-2", "ap-northeast-1", "ap-south-1",
        "ap-southeast-2", "sa-east-1",
    }  # fmt: skip


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_aws_accepts_a_single_location_document(path: Path) -> None:
    documents = json.loads(path.read_bytes())
    one = documents["US East (Ohio)"]
    obs = aws.parse(json.dumps(one).encode(), observed_at=OBSERVED)
    assert {o.region for o in obs} == {"us-east-2"}
    assert _by_key(obs)[("p5.48xlarge", "us-east-2")].usd_per_gpu_hour == Decimal("6.88")


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Access Denied</title></html>",
        b"{}",
        b'{"regions": {"US East (N. Virginia)": {}}}',
        b'{"regions": {"US East (N. Virginia)": {"x": {"price": "1"}}}}',
        b'{"regions": "none"}',
        b"[]",
    ],
)
def test_parse_aws_rejects_unexpected_documents(raw: bytes) -> None:
    with pytest.raises(ParseError):
        aws.parse(raw, observed_at=OBSERVED)


def test_aws_instance_table_names_known_gpus() -> None:
    for instance, (gpu, count) in aws.INSTANCE_GPUS.items():
        assert "." in instance
        assert gpu in KNOWN_GPUS
        assert count >= 1


def test_fetch_aws_reads_one_document_per_location() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"regions": {}})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        doc = json.loads(aws.fetch(client))
    assert set(doc) == set(aws.LOCATIONS)
    assert any(p.endswith("/US%20East%20(N.%20Virginia)/Linux/index.json") for p in paths)
