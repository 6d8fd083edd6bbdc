"""Real captures as ingest batches, and the valid-time history they leave (order tests).

Shared by tests/test_versioning_order.py and bench/versioning_order.py.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Engine, text

from costcurve.core.observations import Observation
from db.ingest_kinds import KINDS
from db.pipeline import IngestOptions, RunSpec, ingest_observations
from scrapers.registry import get_source
from tests.support import fixture_files, parse_recorded

# Source -> file pattern: OpenRouter and RunPod daily listings (complete), LiteLLM snapshots.
CAPTURES = {
    "openrouter": "api_v1_models_*",
    "runpod": "graphql_gpuTypes_*",
    "litellm": "model_prices_and_context_window_*",
}


@dataclass(frozen=True)
class Capture:
    source: str
    name: str
    observations: tuple[Observation, ...]


@cache
def captures(litellm_files: int = 3) -> tuple[Capture, ...]:
    """Every capture of ``CAPTURES`` parsed once (the LiteLLM ones limited: they are large)."""
    out: list[Capture] = []
    for source, pattern in CAPTURES.items():
        paths = [p for p in fixture_files(source, pattern) if p]
        if source == "litellm":
            paths = paths[-litellm_files:]
        for path in paths:
            out.append(Capture(source, path.name, tuple(parse_recorded(source, path))))
    return tuple(out)


def ingest_capture(engine: Engine, capture: Capture) -> None:
    info = get_source(capture.source).SOURCE
    at = capture.observations[0].observed_at
    ingest_observations(
        engine,
        info,
        list(capture.observations),
        IngestOptions(listing_complete=info.listing_complete),
        RunSpec(observed_at=at),
    )


def ingest_concurrently(engine: Engine, batches: list[list[Capture]]) -> None:
    """Each batch in its own thread (own connection), its captures in the given order."""
    errors: list[BaseException] = []

    def worker(batch: list[Capture]) -> None:
        try:
            for capture in batch:
                ingest_capture(engine, capture)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def valid_time_history(engine: Engine) -> dict[tuple[Any, ...], list[tuple[Any, ...]]]:
    """Per offering key: its believed versions as (valid_from, valid_to, values, last_seen_at)."""
    out: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for kind in KINDS:
            keys = ", ".join(f"o.{c}" for c in kind.key_columns)
            values = ", ".join(f"v.{c}" for c in kind.value_columns)
            rows = conn.execute(
                text(
                    f"SELECT {keys}, v.valid_from, v.valid_to, v.last_seen_at, {values} "
                    f"FROM {kind.version.name} v JOIN {kind.offering.name} o "
                    "ON o.id = v.offering_id ORDER BY o.id, v.valid_from"
                )
            ).all()
            n = len(kind.key_columns)
            for r in rows:
                key = (kind.name, *r[:n])
                valid_from, valid_to, seen = r[n : n + 3]
                # Decimals normalised: 1.50 and 1.5 are one price.
                vals = tuple(v.normalize() if hasattr(v, "normalize") else v for v in r[n + 3 :])
                out.setdefault(key, []).append((valid_from, valid_to, vals, seen))
    return out


def version_counts(engine: Engine) -> tuple[int, int, int]:
    """(believed versions, of which open, superseded versions kept) over both kinds."""
    with engine.connect() as conn:
        return tuple(
            sum(conn.execute(text(sql.format(k=kind.record.name))).scalar_one() for kind in KINDS)
            for sql in (
                "SELECT count(*) FROM {k} WHERE superseded_at IS NULL",
                "SELECT count(*) FROM {k} WHERE superseded_at IS NULL AND valid_to IS NULL",
                "SELECT count(*) FROM {k} WHERE superseded_at IS NOT NULL",
            )
        )
