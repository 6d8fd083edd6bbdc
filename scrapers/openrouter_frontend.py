"""OpenRouter frontend endpoint stats: per-host prices plus measured speed.

``GET /api/frontend/v1/stats/endpoint?permaslug=...&variant=standard`` is the
UNDOCUMENTED API behind openrouter.ai's model pages. It is not part of
OpenRouter's public API, has no stability promise and may change or disappear
without notice; the documented per-host prices are in ``openrouter_endpoints``.
What it adds is each endpoint's measured performance over a recent window
(throughput and latency percentiles, request count, health status), stored
beside the price (``LlmPrice.performance`` -> ``llm_endpoint_stat``) so that
"cheapest price at a given speed" can be asked. The captures carry no uptime
figure; ``uptime_pct`` is read when a record has one.

Accepted forms: the API response (``{"data": [endpoint, ...]}``), its bare
``data`` array, and JSON Lines with one ``{"model_slug", "permaslug",
"variant", "endpoints": [...]}`` object per model (what ``fetch`` writes, and
what the recorded collector stored).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from scrapers._openrouter_hosts import endpoint_price, tagged
from scrapers.base import LlmPrice, ParseError, SourceInfo, load_json, looks_blocked, tidy
from scrapers.http import request_bytes
from scrapers.openrouter_endpoints import model_ids

SLUG = "openrouter_frontend"
MODELS_URL = "https://openrouter.ai/api/v1/models"
STATS_URL = "https://openrouter.ai/api/frontend/v1/stats/endpoint"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=STATS_URL,
    # A replay or a partial fetch may cover a few models only.
    listing_complete=False,
    # One request per listed model, one at a time: minutes, not seconds.
    fetch_timeout_s=1800,
    description="OpenRouter frontend endpoint stats (undocumented): per-host prices and speed",
)
_PERCENTILES = (50, 75, 90, 95, 99)


def fetch(client: httpx.Client) -> bytes:
    lines = []
    for model in model_ids(request_bytes(client, MODELS_URL)):
        params = {"permaslug": model, "variant": "standard"}
        body = load_json(SLUG, request_bytes(client, STATS_URL, params=params))
        record: dict[str, Any] = {"model_slug": model, "permaslug": model, "variant": "standard"}
        record["endpoints"] = body.get("data") if isinstance(body, dict) else body
        lines.append(json.dumps(record, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def _records(raw: bytes) -> list[list[Any]]:
    text = raw.decode("utf-8", errors="replace").strip()
    if text.startswith("{") and "\n" in text:
        reason = looks_blocked(raw)
        if reason:
            raise ParseError(SLUG, f"expected endpoint stats, got a {reason}")
        lines = [load_json(SLUG, line.encode(), decimals=True) for line in text.splitlines()]
        groups: list[Any] = [
            line.get("endpoints") if isinstance(line, dict) else None for line in lines
        ]
    else:
        doc = load_json(SLUG, raw, expected="endpoint stats JSON", decimals=True)
        # A one-model JSON Lines snapshot is a single {"endpoints": [...]} object.
        groups = [doc.get("data", doc.get("endpoints")) if isinstance(doc, dict) else doc]
    if not groups or not all(isinstance(g, list) for g in groups):
        raise ParseError(SLUG, "expected lists of endpoint records")
    return groups


def _measure(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    # Percentiles are computed floats (1085.9000000000005): a thousandth is plenty.
    return tidy(Decimal(value).quantize(Decimal("0.001")))


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def performance(endpoint: dict[str, Any]) -> dict[str, Any] | None:
    stats = endpoint.get("stats")
    if not isinstance(stats, dict):
        return None
    perf: dict[str, Any] = {}
    for p in _PERCENTILES:
        perf[f"p{p}_throughput_tps"] = _measure(stats.get(f"p{p}_throughput"))
        perf[f"p{p}_latency_ms"] = _measure(stats.get(f"p{p}_latency"))
    perf["uptime_pct"] = _measure(endpoint.get("uptime", stats.get("uptime")))
    perf["request_count"] = _count(stats.get("request_count"))
    perf["window_minutes"] = _count(stats.get("window_minutes"))
    perf["status"] = _count(endpoint.get("status"))
    return perf


def _model_id(endpoint: dict[str, Any]) -> str:
    model: Any = endpoint.get("model")
    model = model if isinstance(model, dict) else {}
    found = endpoint.get("model_variant_slug") or model.get("slug")
    if not isinstance(found, str):
        raise ParseError(SLUG, "endpoint record without model_variant_slug/model.slug")
    return found


def _string_prices(endpoint: dict[str, Any]) -> dict[str, Any]:
    # Prices are JSON strings; numbers read as exact Decimals are written back as strings.
    pricing = endpoint.get("pricing")
    if not isinstance(pricing, dict):
        return endpoint
    flat = {k: str(v) for k, v in pricing.items() if not isinstance(v, list | dict)}
    return endpoint | {"pricing": flat}


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    out: list[LlmPrice] = []
    for group in _records(raw):
        if not all(isinstance(e, dict) for e in group):
            raise ParseError(SLUG, "an endpoint record is not an object")
        for endpoint, tag in tagged(group):
            model_id = _model_id(endpoint)
            perf = performance(endpoint)
            out.append(
                endpoint_price(
                    SLUG,
                    model_id,
                    _string_prices(endpoint),
                    tag=tag,
                    observed_at=observed_at,
                    source_url=f"{STATS_URL}?permaslug={model_id}&variant=standard",
                    extra={"performance": perf} if perf else None,
                )
            )
    if not out:
        raise ParseError(SLUG, "no endpoint records")
    return out
