"""Ingesting every recorded OpenRouter capture in date order yields exactly the
versions implied by the differences between captures.

The expectation is computed here from the raw JSON with its own small model of
the rules, independently of scrapers/openrouter.py and db/ingest.py.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, text

from db.ingest import PARTIAL_LISTING_RATIO
from db.pipeline import ingest_raw
from tests.support import fixture_files, observed_at_for, require_shared

PRICE_FIELDS = (
    "prompt",
    "completion",
    "input_cache_read",
    "input_cache_write",
    "input_cache_write_1h",
)


def _snapshot(path: Path) -> dict[tuple[str, str | None], tuple]:
    doc = json.loads(path.read_bytes())
    entries = doc["data"] if isinstance(doc, dict) else doc
    out: dict[tuple[str, str | None], tuple] = {}
    for e in entries:
        pricing = e["pricing"]
        if Decimal(pricing["prompt"]) < 0 or Decimal(pricing["completion"]) < 0:
            continue
        variants = [(None, pricing)] + [
            (f">{o['min_prompt_tokens'] // 1000}k", {**pricing, **o})
            for o in pricing.get("overrides") or []
        ]
        for tier, p in variants:
            out[(e["id"], tier)] = tuple(
                Decimal(p[f]) if p.get(f) is not None and Decimal(p[f]) >= 0 else None
                for f in PRICE_FIELDS
            )
    return out


def _expected(paths: list[Path]) -> tuple[list[tuple[int, int]], dict]:
    open_now: dict = {}
    per_file = []
    for path in paths:
        snap = _snapshot(path)
        new = closed = 0
        for key, prices in snap.items():
            if key not in open_now:
                new += 1
            elif open_now[key] != prices:
                new += 1
                closed += 1
        if len(snap) >= PARTIAL_LISTING_RATIO * len(open_now):
            gone = set(open_now) - set(snap)
            closed += len(gone)
            for key in gone:
                del open_now[key]
        open_now.update(snap)
        per_file.append((new, closed))
    return per_file, open_now


def test_ingesting_every_openrouter_capture_in_order_is_exact_and_idempotent(
    engine: Engine,
) -> None:
    require_shared()
    paths = [p for p in fixture_files("openrouter") if p]
    assert len(paths) >= 5
    expected_per_file, expected_open = _expected(paths)

    got = []
    for path in paths:
        outcome = ingest_raw(
            engine, "openrouter", path.read_bytes(), observed_at=observed_at_for(path)
        )
        got.append((outcome.result.new_versions, outcome.result.closed_versions))
        assert outcome.result.skipped == 0
    assert got == expected_per_file

    with engine.connect() as conn:
        open_rows = conn.execute(
            text(
                "SELECT o.provider_model_id, o.context_tier, v.input_usd_per_mtok, "
                "v.output_usd_per_mtok FROM llm_price_version v "
                "JOIN llm_offering o ON o.id = v.offering_id WHERE v.valid_to IS NULL"
            )
        ).all()
        total_before = conn.execute(text("SELECT count(*) FROM llm_price_version")).scalar()
    assert {(r[0], r[1]) for r in open_rows} == set(expected_open)
    million = Decimal(1_000_000)
    for pid, tier, inp, out in open_rows:
        assert inp == expected_open[(pid, tier)][0] * million
        assert out == expected_open[(pid, tier)][1] * million

    # Idempotent: every capture again, in date order, changes nothing (an old
    # snapshot must not withdraw offerings seen in later ones).
    for path in paths:
        again = ingest_raw(
            engine, "openrouter", path.read_bytes(), observed_at=observed_at_for(path)
        )
        assert (again.result.new_versions, again.result.closed_versions) == (0, 0), path.name
        assert again.result.skipped == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM llm_price_version")).scalar() == total_before
        runs = conn.execute(
            text("SELECT count(*), count(DISTINCT snapshot_sha256) FROM pipeline_run")
        ).one()
    assert runs == (2 * len(paths), len(paths))
