"""OpenRouter per-model endpoints API: one price per upstream host.

``GET /api/v1/models/{author}/{slug}/endpoints`` (public, documented) lists every
host that serves a model with its own price, quantization and context length.
Production fetches the endpoints of every model in ``/api/v1/models`` through
the polite HTTP layer (one request at a time per host, retries with backoff)
and records the whole run as one snapshot: JSON Lines, one endpoints response
body per line. ``parse`` also reads a single response body and an HTTP cassette
(a nock recording: a list of request/response pairs whose body may be
brotli-compressed and hex-encoded), which is how the recorded captures come.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import brotli
import httpx

from scrapers._openrouter_hosts import endpoint_price, tagged
from scrapers.base import LlmPrice, ParseError, SourceInfo, load_json, looks_blocked
from scrapers.http import request_bytes

SLUG = "openrouter_endpoints"
MODELS_URL = "https://openrouter.ai/api/v1/models"
ENDPOINTS_URL = "https://openrouter.ai/api/v1/models/{model}/endpoints"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=MODELS_URL,
    # One run lists every host of every model, so a host that is gone was withdrawn.
    listing_complete=True,
    # One request per listed model, one at a time: minutes, not seconds.
    fetch_timeout_s=1800,
    description="OpenRouter per-model endpoints: one price per upstream host",
)


def model_ids(listing: bytes) -> list[str]:
    """Distinct base model ids of a ``/api/v1/models`` listing (``:free`` folded)."""
    doc = load_json(SLUG, listing, expected="the /api/v1/models listing")
    entries = doc.get("data") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise ParseError(SLUG, "the /api/v1/models listing has no data array")
    ids = {str(e["id"]).split(":")[0] for e in entries if isinstance(e, dict) and "id" in e}
    return sorted(ids)


def fetch(client: httpx.Client) -> bytes:
    lines = []
    for model in model_ids(request_bytes(client, MODELS_URL)):
        try:
            body = request_bytes(client, ENDPOINTS_URL.format(model=model))
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:  # listed but not routable right now
                continue
            raise
        # One compact line per response, so the snapshot is JSON Lines.
        lines.append(json.dumps(json.loads(body), separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def _cassette_bodies(doc: list[Any]) -> list[Any]:
    bodies = []
    for record in doc:
        if not isinstance(record, dict) or "response" not in record:
            raise ParseError(SLUG, "HTTP cassette entry without a response")
        if int(record.get("status", 200)) != 200:
            continue
        response = record["response"]
        if isinstance(response, list) and all(isinstance(p, str) for p in response):
            try:
                response = json.loads(brotli.decompress(bytes.fromhex("".join(response))))
            except (ValueError, brotli.error) as exc:
                raise ParseError(SLUG, f"cassette body is not hex brotli JSON: {exc}") from exc
        bodies.append(response)
    return bodies


def _bodies(raw: bytes) -> list[Any]:
    text = raw.decode("utf-8", errors="replace").strip()
    if text.startswith("[") or "\n" not in text:
        doc = load_json(SLUG, raw, expected="an endpoints response, cassette or JSON Lines")
        return _cassette_bodies(doc) if isinstance(doc, list) else [doc]
    reason = looks_blocked(raw)
    if reason:
        raise ParseError(SLUG, f"expected JSON Lines of endpoints responses, got a {reason}")
    return [load_json(SLUG, line.encode()) for line in text.splitlines() if line.strip()]


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    out: list[LlmPrice] = []
    for body in _bodies(raw):
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
            raise ParseError(SLUG, "expected {'data': {'id', 'endpoints': [...]}}")
        model_id = data.get("id")
        if not isinstance(model_id, str):
            raise ParseError(SLUG, "endpoints response without a model id")
        url = ENDPOINTS_URL.format(model=model_id)
        for endpoint, tag in tagged(data["endpoints"]):
            out.append(
                endpoint_price(
                    SLUG, model_id, endpoint, tag=tag, observed_at=observed_at, source_url=url
                )
            )
    if not out:
        raise ParseError(SLUG, "no endpoints in the response")
    return out
