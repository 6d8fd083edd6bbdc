"""Where the recorded pages and datasets live: ../shared, or COSTCURVE_SHARED_DIR.

Tests read them in place (they are never copied into the project) and skip
with a clear reason when the directory is absent.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from costcurve.core.observations import LlmPrice, Observation, date_from_filename, utc

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("COSTCURVE_SHARED_DIR", REPO.parent / "shared")).resolve()
FIXTURES = SHARED / "fixtures"
DATASETS = SHARED / "datasets"


def require_shared(path: Path = SHARED) -> Path:
    if not path.exists():
        pytest.skip(
            f"recorded data not found at {path}; put ../shared beside the checkout "
            "or set COSTCURVE_SHARED_DIR"
        )
    return path


def fixture_files(source: str, pattern: str = "*") -> list[Path]:
    """Every recorded file of a source, sorted by capture date then name.

    For use in ``pytest.mark.parametrize``: when ../shared is absent this returns
    a single placeholder that skips, so collection still works.
    """
    folder = FIXTURES / source
    if not folder.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{folder} is absent"))]  # type: ignore[list-item]
    files = [p for p in folder.glob(pattern) if p.is_file()]
    return sorted(files, key=lambda p: (str(date_from_filename(p.name) or ""), p.name))


def observed_at_for(path: Path) -> datetime:
    day = date_from_filename(path.name)
    assert day is not None, f"no capture date in {path.name}"
    return utc(day)


def assert_timing(measured: float | None, known: float, *, early: float, late: float) -> None:
    """Assert a measured latency is within [known - early, known + late] ms.

    Asymmetric on purpose: a loaded CI machine (2 cores, tests in parallel) only
    ever adds delay to a sleep-timed server, it never makes it answer sooner.
    """
    assert measured is not None
    assert known - early <= measured <= known + late, (
        f"measured {measured:.1f} ms, expected {known:.1f} ms (-{early}/+{late})"
    )


def parse_recorded(source: str, path: Path) -> list:
    """Parse a recorded file of ``source`` at its capture date (through the registry)."""
    from scrapers.registry import parse_source

    return parse_source(source, path.read_bytes(), observed_at=observed_at_for(path))


def only_llm(observations: list[Observation]) -> list[LlmPrice]:
    """Narrow an LLM source's observations to ``LlmPrice``, failing if any is not one."""
    prices = [o for o in observations if isinstance(o, LlmPrice)]
    assert len(prices) == len(observations), "an LLM source returned a non-LlmPrice observation"
    return prices


def llm_by_key(observations: list) -> dict:
    """LLM prices keyed by (provider model id, variant, context tier, modality)."""
    return {(o.provider_model_id, o.variant, o.context_tier, o.modality): o for o in observations}


def input_cached_output(o: object) -> tuple:
    return (o.input_usd_per_mtok, o.cached_input_usd_per_mtok, o.output_usd_per_mtok)  # type: ignore[attr-defined]


# Two captures each of OpenRouter, RunPod and Anthropic: price changes, GPU rates
# and a provider's own page (the API tests' and current-read tests' database).
API_CAPTURES = [
    ("openrouter", "2026-07-17"),
    ("openrouter", "2026-08-03"),
    ("runpod", "graphql_gpuTypes_2026-08-03"),
    ("runpod", "graphql_gpuTypes_2026-08-05"),
    ("anthropic", "docs_about-claude_pricing_2025-10-20"),
    ("anthropic", "docs_about-claude_pricing_2025-11-20"),
]


def ingest_captures(engine: object, captures: list[tuple[str, str]] = API_CAPTURES) -> None:
    """Ingest each (source, distinctive part of a recorded file's name) as recorded."""
    from db.pipeline import ingest_raw

    for source, stem in captures:
        [path] = [p for p in fixture_files(source) if p and stem in p.name]
        ingest_raw(engine, source, path.read_bytes(), observed_at=observed_at_for(path))  # type: ignore[arg-type]


def close_served(engine: object) -> None:
    """Close an engine used as one API process uses it: its frame source (reader
    connection, share lock) first, then its pool."""
    from api import curve_cache

    source = curve_cache._cache(engine).source  # type: ignore[arg-type]
    if source is not None:
        source.close()
    engine.dispose()  # type: ignore[attr-defined]
