from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from costcurve.catalog.gpus import KNOWN_GPUS
from costcurve.core.observations import GpuRate
from scrapers import ParseError, lambdalabs
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("lambda")


def _id(path: Path | None) -> str:
    return path.name if path else "absent"


# (GPU, GPU count) -> per-GPU price, read from each recorded page.
EXPECTED: dict[str, dict[tuple[str, int], str]] = {
    "lambdalabs_service_gpu-cloud_excerpt_wayback_20241103180910.html": {
        ("H100-SXM-80GB", 8): "2.99",
        ("H100-SXM-80GB", 4): "3.09",
        ("H100-SXM-80GB", 2): "3.19",
        ("H100-SXM-80GB", 1): "3.29",
        ("H100-PCIE-80GB", 1): "2.49",
        ("A100-SXM-80GB", 8): "1.79",
        ("A100-SXM-40GB", 8): "1.29",
        ("A100-SXM-40GB", 1): "1.29",
        ("A100-PCIE-40GB", 4): "1.29",
        ("A100-PCIE-40GB", 2): "1.29",
        ("A100-PCIE-40GB", 1): "1.29",
        ("A10-24GB", 1): "0.75",
        ("RTXA6000-48GB", 4): "0.80",
        ("RTXA6000-48GB", 2): "0.80",
        ("RTXA6000-48GB", 1): "0.80",
        ("QUADRORTX6000-24GB", 1): "0.50",
    },
    "lambda_ai_pricing_excerpt_wayback_20260109103934.html": {
        ("B200-SXM-180GB", 8): "4.99",
        ("H100-SXM-80GB", 8): "2.99",
        ("A100-SXM-80GB", 8): "1.79",
        ("A100-SXM-40GB", 8): "1.29",
    },
}


def _parse(path: Path) -> list[GpuRate]:
    return lambdalabs.parse(path.read_bytes(), observed_at=observed_at_for(path))


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_lambda_reads_per_gpu_prices_exactly(path: Path) -> None:
    by_key = {(o.gpu, o.gpu_count): o for o in _parse(path)}
    for key, price in EXPECTED[path.name].items():
        assert by_key[key].usd_per_gpu_hour == Decimal(price), key
        assert by_key[key].pricing == "on_demand"
    assert set(by_key) == set(EXPECTED[path.name])


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_lambda_instance_price_is_per_gpu_times_count(path: Path) -> None:
    for o in _parse(path):
        assert o.usd_per_instance_hour == o.usd_per_gpu_hour * o.gpu_count
    h100_8x = next(o for o in _parse(path) if (o.gpu, o.gpu_count) == ("H100-SXM-80GB", 8))
    assert h100_8x.usd_per_instance_hour == Decimal("23.92")


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_lambda_snapshot_invariants(path: Path) -> None:
    raw = path.read_bytes()
    obs = lambdalabs.parse(raw, observed_at=observed_at_for(path))
    assert obs == lambdalabs.parse(raw, observed_at=observed_at_for(path))
    assert max(Counter(o.offering_key() for o in obs).values()) == 1
    for o in obs:
        assert isinstance(o.usd_per_gpu_hour, Decimal)
        assert o.usd_per_gpu_hour > 0
        assert o.gpu in KNOWN_GPUS
        assert o.source == "lambda"
        assert o.provider == "lambda"
        assert o.observed_at == observed_at_for(path)


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_lambda_skips_v100_whose_form_factor_the_page_does_not_give(path: Path) -> None:
    assert b"Tesla V100" in path.read_bytes()
    assert not any(o.gpu.startswith("V100") for o in _parse(path))


def test_parse_lambda_skips_reserved_contact_sales_rows() -> None:
    path = next(p for p in FILES if p and "lambdalabs" in p.name)
    assert b"Reserved 8x NVIDIA H100 SXM" in path.read_bytes()
    h100_8x = [o for o in _parse(path) if (o.gpu, o.gpu_count) == ("H100-SXM-80GB", 8)]
    assert len(h100_8x) == 1
    assert h100_8x[0].usd_per_gpu_hour == Decimal("2.99")


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Just a moment...</title></html>",
        b"<html><body><table><tr><td>GPU</td></tr></table></body></html>",
        b"",
    ],
)
def test_parse_lambda_rejects_pages_without_the_price_table(raw: bytes) -> None:
    with pytest.raises(ParseError):
        lambdalabs.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))
