"""LiteLLM history: dated snapshot files become successive observations.

The expected versions are computed here from the raw JSON files, independently
of scrapers/litellm.py and db/ingest.py.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from db.backfill import backfill, backfill_litellm_files, litellm_files
from db.queries import llm_history
from tests.support import FIXTURES, fixture_files, observed_at_for, require_shared

MILLION = Decimal(1_000_000)
# Models whose price changed between the recorded snapshots (a cut, a rise,
# two changes, a free listing that became priced), and one that left the list.
SAMPLES = (
    "gpt-3.5-turbo",
    "deepseek/deepseek-chat",
    "mistral/mistral-small-latest",
    "azure_ai/deepseek-r1",
    "sambanova/Meta-Llama-3.2-3B-Instruct",
    "sambanova/Qwen2.5-72B-Instruct",
)

Version = tuple[datetime, datetime | None, Decimal, Decimal]


def _paths() -> list[Path]:
    require_shared(FIXTURES / "litellm")
    paths = [p for p in fixture_files("litellm") if p]
    assert len(paths) == 5
    return paths


def _priced(entry: Any) -> tuple[Decimal, Decimal] | None:
    if not isinstance(entry, dict) or entry.get("mode") != "chat":
        return None
    found = []
    for key in ("input_cost_per_token", "output_cost_per_token"):
        value = entry.get(key)
        if not isinstance(value, (int, Decimal)) or isinstance(value, bool):
            return None
        found.append(Decimal(value) * MILLION)
    return found[0], found[1]


def _expected(name: str, paths: list[Path]) -> tuple[str, list[Version]]:
    versions: list[list[Any]] = []
    provider = ""
    for path in paths:
        entry = json.loads(path.read_bytes(), parse_float=Decimal).get(name)
        at = observed_at_for(path)
        prices = _priced(entry)
        is_open = bool(versions) and versions[-1][1] is None
        if prices is None:
            if is_open:
                versions[-1][1] = at
            continue
        provider = entry["litellm_provider"].lower()
        if is_open and tuple(versions[-1][2:]) == prices:
            continue
        if is_open:
            versions[-1][1] = at
        versions.append([at, None, *prices])
    return provider, [(v[0], v[1], v[2], v[3]) for v in versions]


def _history(engine: Engine, provider: str, name: str) -> list[Version]:
    with engine.connect() as conn:
        rows = llm_history(conn, source="litellm", provider=provider, provider_model_id=name)
    return [
        (r["valid_from"], r["valid_to"], r["input_usd_per_mtok"], r["output_usd_per_mtok"])
        for r in rows
        if (r["variant"], r["context_tier"], r["modality"]) == ("standard", None, "text")
    ]


def test_backfill_litellm_files_twice_in_date_order_and_idempotent(engine: Engine) -> None:
    paths = _paths()
    # Handed over newest first and as a folder: still ingested oldest first, once each.
    first = backfill_litellm_files(engine, [FIXTURES / "litellm", *reversed(paths)])
    assert len(first) == len(paths)
    assert sum(o.result.new_versions for o in first) > 1000
    assert all(o.result.skipped == 0 for o in first)
    with engine.connect() as conn:
        observed = (
            conn.execute(
                text("SELECT observed_at FROM pipeline_run WHERE source = 'litellm' ORDER BY id")
            )
            .scalars()
            .all()
        )
    assert observed == [observed_at_for(p) for p in paths]

    second = backfill_litellm_files(engine, paths)
    assert [o.result.new_versions for o in second] == [0] * len(paths)
    assert [o.result.closed_versions for o in second] == [0] * len(paths)
    assert [o.result.unchanged for o in second] == [o.result.observations for o in second]


def test_backfill_litellm_sample_histories_equal_the_snapshots(engine: Engine) -> None:
    paths = _paths()
    backfill_litellm_files(engine, paths)
    for name in SAMPLES:
        provider, expected = _expected(name, paths)
        assert len(expected) >= 2 or expected[-1][1] is not None, name
        assert _history(engine, provider, name) == expected, name


def test_backfill_one_litellm_snapshot_through_the_generic_entry_point(engine: Engine) -> None:
    path = _paths()[-1]
    at = observed_at_for(path)
    outcome = backfill(engine, "litellm", path.read_bytes(), observed_at=at)
    assert outcome.result.new_versions == outcome.result.observations > 1000
    provider, expected = _expected("gpt-3.5-turbo", [path])
    assert _history(engine, provider, "gpt-3.5-turbo") == expected


def test_litellm_files_orders_by_the_date_in_the_name(tmp_path: Path) -> None:
    for name in ("b_2025-06-15.json", "a_2026-01-14.json", "notes.txt"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in litellm_files([tmp_path])] == ["b_2025-06-15.json", "a_2026-01-14.json"]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["prices.json"], "no capture date"),
        (["x_2025-06-15.json", "y_2025-06-15.json"], "both dated 2025-06-15"),
    ],
)
def test_litellm_files_refuses_undated_and_same_day_files(
    tmp_path: Path, names: list[str], message: str
) -> None:
    for name in names:
        (tmp_path / name).write_text("{}")
    with pytest.raises(ValueError, match=message):
        litellm_files([tmp_path / n for n in names])


def test_litellm_files_refuses_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="neither a file nor a folder"):
        litellm_files([tmp_path / "absent_2025-01-01.json"])


def test_litellm_files_accepts_the_same_file_twice(tmp_path: Path) -> None:
    paths = _paths()
    copy = tmp_path / paths[0].name
    shutil.copy(paths[0], copy)
    assert litellm_files([copy, copy]) == [copy]
