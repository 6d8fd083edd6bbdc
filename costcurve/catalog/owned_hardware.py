"""Documented parameters of owning a GPU instead of renting it (the "owned" basis).

Each entry is a purchase price and board power with its source; the facility
parameters are shared defaults. ``costcurve.core.formulas.owned_usd_per_gpu_hour``
turns them into a cost per GPU-hour; every value can be overridden per request.

Sources:
* seed 003 ("Local/Self-Hosted Deployment Costs", hardware amortisation table):
  H100 SXM ~$25,000-30,000 and 700 W; A100 80 GB (used) ~$8,000-12,000 and
  300 W (the PCIe board); RTX 5090 ~$2,000 and 575 W; RTX 4090 ~$1,600 and 450 W; a 3-year
  amortisation; $0.12/kWh US average electricity. Mid-points are used.
* NVIDIA H200 product brief: 700 W max TDP (SXM). No purchase price is
  published; $32,000 is an estimate above the H100's (flagged in ``source``).
* PUE 1.56: Uptime Institute Global Data Center Survey 2024, industry average.
A server's CPUs, networking, rack space and staff are not included: this is
the GPU's own cost, comparable with a per-GPU rental rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DEFAULT_LIFETIME_YEARS = Decimal(3)
DEFAULT_PUE = Decimal("1.56")
DEFAULT_USD_PER_KWH = Decimal("0.12")
FACILITY_SOURCE = (
    "lifetime 3 y and $0.12/kWh: seed 003; PUE 1.56: Uptime Institute Global Data Center "
    "Survey 2024"
)


@dataclass(frozen=True)
class OwnedGpu:
    purchase_usd: Decimal
    power_kw: Decimal
    source: str


OWNED_GPUS: dict[str, OwnedGpu] = {
    "H100-SXM-80GB": OwnedGpu(
        Decimal(27500), Decimal("0.7"), "seed 003: $25,000-30,000 (mid-point), 700 W"
    ),
    "H200-SXM-141GB": OwnedGpu(
        Decimal(32000),
        Decimal("0.7"),
        "estimate (no published price): $32,000; 700 W: NVIDIA H200 product brief",
    ),
    "A100-PCIE-80GB": OwnedGpu(
        Decimal(10000), Decimal("0.3"), "seed 003: used $8,000-12,000 (mid-point), 300 W"
    ),
    "RTX5090-32GB": OwnedGpu(Decimal(2000), Decimal("0.575"), "seed 003: ~$2,000, 575 W"),
    "RTX4090-24GB": OwnedGpu(Decimal(1600), Decimal("0.45"), "seed 003: ~$1,600, 450 W"),
}
