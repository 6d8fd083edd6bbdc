from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from costcurve.catalog.gpus import KNOWN_GPUS
from costcurve.core.observations import GpuRate
from scrapers import ParseError, coreweave
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("coreweave")


def _id(path: Path | None) -> str:
    return path.name if path else "absent"


EXPECTED = {
    "coreweave_gpu-cloud-pricing_excerpt_wayback_20230921194906.html": {
        "H100-SXM-80GB": "4.76",  # "NVIDIA HGX H100"
        "H100-PCIE-80GB": "4.25",
        "A100-SXM-80GB": "2.21",  # "A100 80GB NVLINK"
        "A100-PCIE-80GB": "2.21",
        "A100-SXM-40GB": "2.06",
        "A100-PCIE-40GB": "2.06",
        "A40-48GB": "1.28",
        "RTXA6000-48GB": "1.28",
        "RTXA5000-24GB": "0.77",
        "RTXA4000-16GB": "0.61",
        "QUADRORTX5000-16GB": "0.57",
        "QUADRORTX4000-8GB": "0.24",
    }
}


def _parse(path: Path) -> list[GpuRate]:
    return coreweave.parse(path.read_bytes(), observed_at=observed_at_for(path))


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_coreweave_reads_gpu_component_prices_exactly(path: Path) -> None:
    got = {o.gpu: o.usd_per_gpu_hour for o in _parse(path)}
    assert got == {gpu: Decimal(price) for gpu, price in EXPECTED[path.name].items()}


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_coreweave_component_price_has_no_instance_price(path: Path) -> None:
    raw = path.read_bytes()
    obs = coreweave.parse(raw, observed_at=observed_at_for(path))
    assert obs == coreweave.parse(raw, observed_at=observed_at_for(path))
    assert max(Counter(o.offering_key() for o in obs).values()) == 1
    for o in obs:
        assert o.usd_per_instance_hour is None
        assert o.gpu_count == 1
        assert o.pricing == "on_demand"
        assert o.gpu in KNOWN_GPUS
        assert isinstance(o.usd_per_gpu_hour, Decimal)
        assert o.usd_per_gpu_hour > 0
        assert o.observed_at == observed_at_for(path)


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_parse_coreweave_skips_the_row_cut_off_before_its_price(path: Path) -> None:
    assert b"Tesla V100 NVLINK" in path.read_bytes()
    assert not any(o.gpu.startswith("V100") for o in _parse(path))


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Just a moment...</title></html>",
        b"<html><body><h1>Pricing</h1><div>8x H100 $49.24/hr</div></body></html>",
        b'<div>GPU Component</div><div class="table-body-row"><div>no link</div></div>',
    ],
)
def test_parse_coreweave_rejects_other_layouts(raw: bytes) -> None:
    with pytest.raises(ParseError):
        coreweave.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))
