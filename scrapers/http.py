"""Polite HTTP for production fetches: honest User-Agent, timeouts, retries with
exponential backoff and jitter, one request at a time per host, and conditional
requests (ETag / Last-Modified) so an unchanged page costs the host a 304.

Only ``fetch`` functions use this module; parsers never see the network.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import httpx

USER_AGENT = "costcurve/0.1 (+https://github.com/costcurve/costcurve; price research bot)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# The one retry layer of a fetch: requests per URL and run (README "Orchestration").
ATTEMPTS = 4
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

_host_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_host_locks_guard = threading.Lock()


@dataclass
class _Validator:
    etag: str | None
    last_modified: str | None
    body: bytes


# Per-process memory of validators: a long-running worker re-fetching a page
# sends If-None-Match and reuses the body it already has on 304.
_validators: dict[tuple[str, str, str], _Validator] = {}


def _host_lock(url: str) -> threading.Lock:
    host = httpx.URL(url).host
    with _host_locks_guard:
        return _host_locks[host]


def make_client(**kwargs: Any) -> httpx.Client:
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    return httpx.Client(headers=headers, timeout=DEFAULT_TIMEOUT, follow_redirects=True, **kwargs)


def backoff_delay(attempt: int, base: float = 1.0, cap: float = 60.0) -> float:
    """Full-jitter exponential backoff (AWS architecture blog), in seconds."""
    return random.uniform(0, min(cap, base * 2**attempt))


def request_bytes(
    client: httpx.Client,
    url: str,
    *,
    method: str = "GET",
    json: Any = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    attempts: int = ATTEMPTS,
    backoff_base: float = 1.0,
) -> bytes:
    """Fetch ``url`` and return the body, retrying transient failures."""
    key = (method, str(httpx.URL(url, params=params)), repr(json))
    last_error: Exception | None = None
    for attempt in range(attempts):
        send_headers = dict(headers or {})
        cached = _validators.get(key)
        if cached:
            if cached.etag:
                send_headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                send_headers["If-Modified-Since"] = cached.last_modified
        try:
            with _host_lock(url):
                response = client.request(
                    method, url, json=json, params=params, headers=send_headers
                )
        except httpx.TransportError as exc:
            last_error = exc
        else:
            if response.status_code == 304 and cached:
                return cached.body
            if response.status_code not in RETRY_STATUSES:
                response.raise_for_status()
                body = response.content
                etag = response.headers.get("etag")
                modified = response.headers.get("last-modified")
                if etag or modified:
                    _validators[key] = _Validator(etag, modified, body)
                return body
            last_error = httpx.HTTPStatusError(
                f"HTTP {response.status_code} from {url}",
                request=response.request,
                response=response,
            )
            retry_after = response.headers.get("retry-after", "")
            if retry_after.isdigit() and attempt + 1 < attempts:
                time.sleep(min(float(retry_after), 120.0))
                continue
        if attempt + 1 < attempts:
            time.sleep(backoff_delay(attempt, base=backoff_base))
    assert last_error is not None
    raise last_error
