"""Alert rules: what a user may ask for, and what the API shows back.

A rule watches one *current value* (see alerts/evaluate.py for how each target
is valued) and fires when it crosses ``threshold`` in ``direction``.

Channels are Apprise URLs. Only services whose destination we can reason about
are accepted: hosted services with a fixed endpoint (Slack, Discord, Telegram)
and services that post to a host named in the URL (generic JSON/XML/form
webhooks, e-mail via SMTP, ntfy, Gotify, Mattermost, Teams via Power Automate
workflows). For the
latter every address the host resolves to must be a public one, unless
``COSTCURVE_ALERTS_ALLOW_PRIVATE_TARGETS`` is set: otherwise a rule could make
the service post to internal hosts (cloud metadata, databases, admin panels).
Delivery repeats the check (a DNS answer can change after the rule is created)
and never follows redirects.
"""

from __future__ import annotations

import ipaddress
import socket
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationInfo, field_validator

from catalog.gpus import KNOWN_GPUS, canonical_gpu
from catalog.models import Tier, load_models, resolve_model
from scrapers.base import GpuPricing

Metric = Literal["input", "output", "blended", "usd_per_gpu_hour"]
Direction = Literal["below", "above"]
RuleState = Literal["armed", "triggered", "no_data"]
TOKEN_METRICS: tuple[str, ...] = ("input", "output", "blended")
METRICS_BY_TARGET: dict[str, tuple[str, ...]] = {
    "model": TOKEN_METRICS,
    "tier": TOKEN_METRICS,
    "gpu": ("usd_per_gpu_hour",),
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
    value = value.strip()
    if value in KNOWN_GPUS:
        return value
    resolved = canonical_gpu(value)
    if resolved is not None:
        return resolved
    raise ValueError(
        f"unknown GPU {value!r}: use a canonical name such as 'H100-SXM-80GB' or 'L40S-48GB'"
    )


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
    ModelTarget | TierTarget | GpuTarget | SelfHostedTarget, Field(discriminator="type")
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


# --- channels -----------------------------------------------------------------------------

# Apprise plugin class -> attributes naming the host it connects to. An empty tuple: a
# hosted service whose endpoint is fixed by Apprise, whatever the URL says.
_SERVICES: dict[str, tuple[str, ...]] = {
    "NotifyJSON": ("host",),
    "NotifyXML": ("host",),
    "NotifyForm": ("host",),
    "NotifyEmail": ("smtp_host",),
    "NotifyNtfy": ("host",),
    "NotifyGotify": ("host",),
    "NotifyMattermost": ("host",),
    # Microsoft Teams through a Power Automate workflow URL (Apprise dropped msteams://).
    "NotifyWorkflows": ("host",),
    "NotifySlack": (),
    "NotifyDiscord": (),
    "NotifyTelegram": (),
}
SUPPORTED_SCHEMES = (
    "json://, jsons://, xml://, xmls://, form://, forms://, mailto://, mailtos://, "
    "ntfy://, ntfys://, gotify://, gotifys://, mmost://, mmosts://, workflows:// (Teams), "
    "slack://, discord://, tgram:// (or Slack's and Discord's own https webhook URLs)"
)
# Schemes whose host part is a destination (shown when masking), not a token.
_HOST_SCHEMES = {
    "json",
    "jsons",
    "xml",
    "xmls",
    "form",
    "forms",
    "gotify",
    "gotifys",
    "mmost",
    "mmosts",
    "workflow",
    "workflows",
    "http",
    "https",
}
PRIVATE_SETTING = "COSTCURVE_ALERTS_ALLOW_PRIVATE_TARGETS"


class ChannelError(ValueError):
    """The channel URL is unusable or points somewhere alerts may not go."""


def instantiate(channel: str) -> Any:
    import apprise

    # Never follow redirects: a public webhook could redirect to an internal address.
    plugin = apprise.Apprise.instantiate(channel, asset=apprise.AppriseAsset(http_redirects=False))
    if plugin is not None:
        plugin.redirects = False
    return plugin


def _hosts(plugin: Any) -> list[tuple[str, int | None]]:
    name = type(plugin).__name__
    if name == "NotifyNtfy" and getattr(plugin, "mode", None) == "cloud":
        return []  # ntfy.sh itself, whatever the topic
    hosts = []
    for attr in _SERVICES[name]:
        host = getattr(plugin, attr, None)
        if host:
            port = getattr(plugin, "port", None) if attr == "host" else None
            hosts.append((str(host), port if isinstance(port, int) else None))
    if _SERVICES[name] and not hosts:
        raise ChannelError("the channel URL names no host to deliver to")
    return hosts


def _address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for label, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return label
    return None if ip.is_global else "non-public"


def check_host(host: str, port: int | None) -> None:
    """Refuse a host unless every address it resolves to is public."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise ChannelError(f"host {host!r} does not resolve ({exc})") from None
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        problem = _address_problem(address)
        if problem:
            raise ChannelError(
                f"host {host!r} resolves to {address}, a {problem} address; alerts may not "
                f"reach private, loopback or link-local addresses (set {PRIVATE_SETTING}=true "
                "to allow it, e.g. for tests)"
            )


def check_channel(channel: str, *, allow_private: bool) -> Any:
    """Validate an Apprise URL and where it delivers; returns the Apprise plugin."""
    channel = channel.strip()
    if "://" not in channel:
        raise ChannelError(
            f"channel must be an Apprise URL such as jsons://host/path; supported: "
            f"{SUPPORTED_SCHEMES}"
        )
    plugin = instantiate(channel)
    if plugin is None:
        scheme = channel.split("://", 1)[0]
        raise ChannelError(
            f"Apprise cannot use this {scheme}:// URL (unknown service or missing parts); "
            f"supported: {SUPPORTED_SCHEMES}"
        )
    if type(plugin).__name__ not in _SERVICES:
        raise ChannelError(
            f"{plugin.service_name} is not a supported alert channel; supported: "
            f"{SUPPORTED_SCHEMES}"
        )
    if not allow_private:
        for host, port in _hosts(plugin):
            check_host(host, port)
    return plugin


def mask_channel(channel: str) -> str:
    """The channel with every part that may be a secret replaced by ``****``.

    Webhook paths, query strings, user names, passwords and tokens are all
    masked; only the scheme and, for host-addressed services, the host remain.
    """
    scheme = channel.strip().split("://", 1)[0].lower() if "://" in channel else ""
    if not scheme.isascii() or not scheme.isalnum():
        return "****"
    try:
        parts = urlsplit(channel.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:  # e.g. a token where a port would be (tgram://123:abc/...)
        return f"{scheme}://****"
    if scheme in {"mailto", "mailtos"} and host:
        return f"{scheme}://****@{host}"
    if scheme not in _HOST_SCHEMES or not host:
        return f"{scheme}://****"
    shown = f"[{host}]" if ":" in host else host
    if port:
        shown += f":{port}"
    user = "****@" if parts.username or parts.password else ""
    rest = "/****" if parts.path.strip("/") or parts.query or parts.fragment else "/"
    return f"{scheme}://{user}{shown}{rest}"


def redact(text: str | None, channel: str) -> str | None:
    """``text`` (an error message) without any secret part of ``channel`` in it."""
    if text is None:
        return None
    secrets = {channel.strip()}
    try:
        parts = urlsplit(channel.strip())
        secrets |= {parts.path, parts.query, parts.username or "", parts.password or ""}
        secrets |= {seg for seg in parts.path.split("/") if len(seg) >= 6}
        if parts.scheme.lower() not in _HOST_SCHEMES:
            secrets.add(parts.netloc)
    except ValueError:
        pass
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "****")
    return text
