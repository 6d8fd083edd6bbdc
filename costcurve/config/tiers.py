"""The capability-tier rule's parameters (README "Capability tiers"); set by environment.

Every field reads ``COSTCURVE_TIER_<FIELD>``, e.g. ``COSTCURVE_TIER_FRONTIER_WITHIN=3``.
The bands are distances below the best score of any model released by the
date asked about, in points of ``benchmark`` (the Epoch Capabilities Index by
default): a model within ``frontier_within`` of the best is frontier, then
strong, good, and everything further below is fast.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from costcurve.config.settings import SettingsError


class TierRule(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COSTCURVE_TIER_", extra="ignore", frozen=True)

    benchmark: str = Field(default="ECI", description="Score that ranks capability")
    frontier_within: float = Field(default=2.5, ge=0, description="Points below the best")
    strong_within: float = Field(default=6.0, ge=0)
    good_within: float = Field(default=12.0, ge=0)
    # local: open weights with total params x bits/8 + KV cache <= one GPU's memory.
    local_gpu_memory_gb: Decimal = Field(default=Decimal(32), gt=0)
    local_bits_per_param: Decimal = Field(default=Decimal("4.5"), gt=0)
    local_kv_cache_gb: Decimal = Field(default=Decimal(4), ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> TierRule:
        if not self.frontier_within <= self.strong_within <= self.good_within:
            raise ValueError(
                "tier bands must satisfy frontier_within <= strong_within <= good_within"
            )
        return self

    @property
    def local_max_params_b(self) -> Decimal:
        """Largest total parameter count (billions) that fits the local rule."""
        usable = self.local_gpu_memory_gb - self.local_kv_cache_gb
        return usable * 8 / self.local_bits_per_param

    def describe(self) -> dict[str, object]:
        return {
            "benchmark": self.benchmark,
            "frontier": f"{self.benchmark} within {self.frontier_within:g} of the best released",
            "strong": f"within {self.strong_within:g}",
            "good": f"within {self.good_within:g}",
            "fast": f"more than {self.good_within:g} below the best",
            "local": (
                f"open weights, total params x {self.local_bits_per_param} bits + "
                f"{self.local_kv_cache_gb} GB KV cache <= {self.local_gpu_memory_gb} GB "
                f"(<= {self.local_max_params_b:.1f}B params)"
            ),
        }


@cache
def get_tier_rule() -> TierRule:
    try:
        return TierRule()
    except ValidationError as exc:
        raise SettingsError(f"invalid COSTCURVE_TIER_* setting: {exc}") from None
