"""The dashboard tests' database: recorded captures, the reference history, and scores."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from db.backfill import load_reference_history
from db.pipeline import RunSpec, ingest_raw
from db.scores import import_scores, parse_scores_csv
from tests.support import fixture_files, observed_at_for, require_shared

# (source, a distinctive part of the recorded file's name): two captures of the
# main LLM sources (so there are price changes), and GPU rates with on-demand
# (RunPod) and spot/marketplace (Vast.ai) pricing.
CAPTURES = [
    ("openrouter", "2026-07-17"),
    ("openrouter", "2026-08-03"),
    ("anthropic", "docs_about-claude_pricing_2025-10-20"),
    ("anthropic", "docs_about-claude_pricing_2025-11-20"),
    ("runpod", "graphql_gpuTypes_2026-08-03"),
    ("runpod", "graphql_gpuTypes_2026-08-05"),
    ("vastai", "2026-07-20"),
    ("vastai", "2026-07-27"),
]


def load_dashboard_data(engine: Engine) -> None:
    from tests.test_api_deflation import SCORES

    require_shared()
    load_reference_history(engine)
    for i, (source, stem) in enumerate(CAPTURES):
        [path] = [p for p in fixture_files(source) if p and stem in p.name]
        # One capture carries a Prefect flow-run id, as a scheduled run would.
        spec = RunSpec(
            observed_at=observed_at_for(path),
            trigger="flow" if i == 0 else "cli",
            flow_run_id=uuid.UUID(int=i + 1) if i == 0 else None,
        )
        ingest_raw(engine, source, path.read_bytes(), observed_at=observed_at_for(path), spec=spec)
    import_scores(engine, parse_scores_csv(SCORES))
