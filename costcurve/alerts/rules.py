"""Alert rules: what a user may ask for, and what the API shows back.

A rule watches one *current value* (see alerts/evaluate.py for how each target
is valued) and fires when it crosses ``threshold`` in ``direction``.

Channels are Apprise URLs, validated in alerts/channels.py.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationInfo, field_validator

from costcurve.catalog.gpus import GpuNameError, resolve_gpu
from costcurve.catalog.models import Tier, load_models, resolve_model
from costcurve.core.observations import GpuPricing

Metric = Literal["input", "output", "blended", "usd_per_gpu_hour"]
Direction = Literal["below", "above"]
RuleState = Literal["armed", "triggered", "no_data"]
TOKEN_METRICS: tuple[str, ...] = ("input", "output", "blended")
METRICS_BY_TARGET: dict[str, tuple[str, ...]] = {
    "model": TOKEN_METRICS,
    "tier": TOKEN_METRICS,
    "gpu": ("usd_per_gpu_hour",),
    "gpu_index": ("usd_per_gpu_hour",),
    # Serving benchmarks measure output throughput, so only the output price is defined.
    "self_hosted": ("output",),
}


def _money_json(value: Decimal) -> float | str:
    # Same convention as the CLI: a JSON number when it round-trips exactly.
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)


Money = Annotated[Decimal, PlainSerializer(_money_json, when_used="json")]


def _canonical_model(value: str) -> str:
    value = value.strip()
    models = load_models()
    if value in models:
        return value
    resolved = resolve_model("", value)
    if resolved is not None:
        return resolved
    raise ValueError(
        f"unknown model {value!r}: use a canonical model slug from catalog/models.yaml, "
        "e.g. 'llama-3.3-70b-instruct'"
    )


def _canonical_gpu(value: str) -> str:
    try:
        return resolve_gpu(value)
    except GpuNameError as exc:
        raise ValueError(
            f"{exc}: use a canonical name such as 'H100-SXM-80GB' or 'L40S-48GB'"
        ) from None


def _provider(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if not value:
        raise ValueError("provider must be a provider slug (e.g. 'deepinfra') or null")
    return value


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelTarget(_Target):
    """One model's token price at one provider, or the cheapest provider when null."""

    type: Literal["model"]
    model: str
    provider: str | None = None

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        return _canonical_model(value)

    @field_validator("provider")
    @classmethod
    def _prov(cls, value: str | None) -> str | None:
        return _provider(value)


class TierTarget(_Target):
    """The cheapest token price of any model in a capability tier."""

    type: Literal["tier"]
    tier: Tier


class GpuTarget(_Target):
    """The cheapest per-GPU hourly rate of one GPU and pricing (any provider unless named)."""

    type: Literal["gpu"]
    gpu: str
    pricing: GpuPricing = "on_demand"
    provider: str | None = None

    @field_validator("gpu")
    @classmethod
    def _gpu(cls, value: str) -> str:
        return _canonical_gpu(value)

    @field_validator("provider")
    @classmethod
    def _prov(cls, value: str | None) -> str | None:
        return _provider(value)


class GpuIndexTarget(_Target):
    """The costcurve GPU index print of one GPU and tenor (docs/gpu-index.md).

    "H100 SXM on-demand index below $2.00": ``{"type": "gpu_index", "gpu":
    "H100 SXM", "tenor": "on_demand"}``, metric ``usd_per_gpu_hour``, threshold 2.
    """

    type: Literal["gpu_index"]
    gpu: str
    tenor: GpuPricing = "on_demand"
    segment: Literal["all", "hyperscaler", "neocloud", "marketplace"] = "all"

    @field_validator("gpu")
    @classmethod
    def _gpu(cls, value: str) -> str:
        return _canonical_gpu(value)


class SelfHostedTarget(_Target):
    """$/M output tokens serving a model on a GPU: measured throughput x cheapest rate."""

    type: Literal["self_hosted"]
    model: str
    gpu: str

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        return _canonical_model(value)

    @field_validator("gpu")
    @classmethod
    def _gpu(cls, value: str) -> str:
        return _canonical_gpu(value)


Target = Annotated[
    ModelTarget | TierTarget | GpuTarget | GpuIndexTarget | SelfHostedTarget,
    Field(discriminator="type"),
]


class AlertRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    target: Target
    metric: Metric
    threshold: Decimal = Field(ge=0, max_digits=20, decimal_places=10)
    direction: Direction = "below"
    channel: str = Field(min_length=1, max_length=2000)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()

    @field_validator("metric")
    @classmethod
    def _metric_fits_target(cls, value: str, info: ValidationInfo) -> str:
        target = info.data.get("target")
        if target is not None and value not in METRICS_BY_TARGET[target.type]:
            allowed = ", ".join(METRICS_BY_TARGET[target.type])
            raise ValueError(
                f"metric {value!r} is not valid for a {target.type} target; use {allowed}"
            )
        return value


class DeliveryPublic(BaseModel):
    status: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None


class AlertEventPublic(BaseModel):
    id: int
    rule_id: int
    value: Money
    previous_value: Money | None
    threshold: Money
    direction: Direction
    crossed_at: datetime
    fired_at: datetime
    llm_price_version_id: int | None
    gpu_rate_version_id: int | None
    benchmark_result_id: int | None
    delivery: DeliveryPublic | None


class AlertRulePublic(BaseModel):
    id: int
    name: str
    target: dict[str, Any]
    metric: Metric
    threshold: Money
    direction: Direction
    channel: str = Field(description="The channel URL with every secret part masked")
    active: bool
    created_at: datetime
    current_value: Money | None = Field(
        description="The target's value now (null: no price known yet)"
    )
    state: RuleState = Field(
        description="triggered: the value is already past the threshold, so the rule "
        "fires again only after it crosses back (re-arms) and then crosses anew"
    )
    last_evaluated_at: datetime | None
    events: int


class AlertRuleList(BaseModel):
    items: list[AlertRulePublic]


class AlertEventList(BaseModel):
    items: list[AlertEventPublic]


def rule_state(value: Decimal | None, threshold: Decimal, direction: str) -> RuleState:
    if value is None:
        return "no_data"
    return "triggered" if is_past(value, threshold, direction) else "armed"


def is_past(value: Decimal, threshold: Decimal, direction: str) -> bool:
    return value < threshold if direction == "below" else value > threshold
