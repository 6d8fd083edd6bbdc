"""The curated reference history loaded into the versioned tables.

Row-level checks (every row cites a source, values match the seeds) live in
tests/test_catalog_reference.py; these check what the database ends up with.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, text

from costcurve.catalog.reference import GPU_COLUMNS, GPU_RATES_PATH, PRICE_COLUMNS, PRICES_PATH
from costcurve.core.observations import LlmPrice
from db.backfill import load_reference_history, reference_observations
from db.queries import llm_history, llm_prices_as_of


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _utc(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)


def test_load_reference_history_twice_opens_versions_once(engine: Engine) -> None:
    first = load_reference_history(engine)
    rows = len(_rows(PRICES_PATH)) + len(_rows(GPU_RATES_PATH))
    assert first.result.observations == rows
    assert first.result.new_versions > 0
    assert first.result.skipped == 0
    second = load_reference_history(engine)
    assert (second.result.new_versions, second.result.closed_versions, second.result.skipped) == (
        0,
        0,
        0,
    )
    assert second.result.unchanged == rows
    with engine.connect() as conn:
        kind = conn.execute(text("SELECT kind FROM source WHERE slug = 'reference'")).scalar_one()
        statuses = conn.execute(text("SELECT status FROM pipeline_run")).scalars().all()
    assert kind == "reference"
    assert statuses == ["succeeded", "succeeded"]


def test_every_reference_version_keeps_its_citation_and_change_kind(engine: Engine) -> None:
    load_reference_history(engine)
    cited = {row["source"] for row in _rows(PRICES_PATH)} | {
        row["source"] for row in _rows(GPU_RATES_PATH)
    }
    with engine.connect() as conn:
        versions = conn.execute(
            text(
                """
                SELECT source_url, change_kind FROM llm_price_version
                UNION ALL SELECT source_url, change_kind FROM gpu_rate_version
                """
            )
        ).all()
    assert versions
    for source_url, change_kind in versions:
        assert source_url in cited
        assert change_kind in {"reference", "announced"}


def test_reference_history_starts_in_2023_and_announced_cuts_start_on_their_date(
    engine: Engine,
) -> None:
    load_reference_history(engine)
    announced = [r for r in _rows(PRICES_PATH) if r["change_kind"] == "announced"]
    assert announced
    with engine.connect() as conn:
        assert llm_prices_as_of(conn, datetime(2023, 6, 1, tzinfo=UTC), source="reference")
        for row in announced:
            history = llm_history(
                conn,
                source="reference",
                provider=row["provider"],
                provider_model_id=row["model"] or row["provider_model_id"],
            )
            (version,) = [v for v in history if v["valid_from"] == _utc(row["effective_date"])]
            assert version["change_kind"] == "announced"
            assert version["input_usd_per_mtok"] == Decimal(row["input_usd_per_mtok"])


def test_a_row_that_restates_part_of_a_price_changes_nothing(engine: Engine) -> None:
    # gemini-2.5-pro: a seed quotes only the input price later; the output stays known.
    # (The preview id of 2025-04-04 is the same model, so the same reference offering.)
    rows = [
        r for r in _rows(PRICES_PATH) if (r["provider"], r["model"]) == ("google", "gemini-2.5-pro")
    ]
    assert [bool(r["output_usd_per_mtok"]) for r in rows] == [True, True, False]
    load_reference_history(engine)
    with engine.connect() as conn:
        (version,) = llm_history(
            conn, source="reference", provider="google", provider_model_id="gemini-2.5-pro"
        )
    assert version["valid_from"] == _utc(rows[0]["effective_date"])
    assert version["valid_to"] is None
    assert version["output_usd_per_mtok"] == Decimal(rows[0]["output_usd_per_mtok"])


def test_a_row_that_changes_a_price_leaves_its_unknown_cells_unknown(tmp_path: Path) -> None:
    prices, gpus = tmp_path / "prices.csv", tmp_path / "gpus.csv"
    prices.write_text(
        ",".join(PRICE_COLUMNS) + "\n"
        "2024-11-04,anthropic,claude-3.5-haiku,h,1,5,0.1,standard,reference,https://a.example\n"
        "2025-01-01,anthropic,claude-3.5-haiku,h,1,,,standard,reference,https://b.example\n"
        "2025-05-31,anthropic,claude-3.5-haiku,h,0.8,4,,standard,reference,https://c.example\n"
    )
    gpus.write_text(",".join(GPU_COLUMNS) + "\n")
    observations, kinds = reference_observations(prices, gpus)
    assert kinds == ["reference"] * 3
    got = [
        (o.input_usd_per_mtok, o.output_usd_per_mtok, o.cached_input_usd_per_mtok, o.source_url)
        for o in observations
        if isinstance(o, LlmPrice)
    ]
    assert got == [
        (Decimal(1), Decimal(5), Decimal("0.1"), "https://a.example"),
        (Decimal(1), Decimal(5), Decimal("0.1"), "https://b.example"),
        (Decimal("0.8"), Decimal(4), None, "https://c.example"),
    ]


def test_reference_gpu_rates_are_versioned_too(engine: Engine) -> None:
    load_reference_history(engine)
    rows = _rows(GPU_RATES_PATH)
    with engine.connect() as conn:
        got = conn.execute(
            text(
                """
                SELECT o.provider, o.gpu, o.gpu_count, o.pricing, o.statistic, v.valid_from,
                       v.usd_per_gpu_hour
                FROM gpu_rate_version v JOIN gpu_offering o ON o.id = v.offering_id
                WHERE o.source = 'reference'
                """
            )
        ).all()
    expected = {
        (
            r["provider"],
            r["gpu"],
            int(r["gpu_count"]),
            r["pricing"],
            r["statistic"] or None,
            _utc(r["effective_date"]),
            Decimal(r["usd_per_gpu_hour"]),
        )
        for r in rows
    }
    assert set(got) == expected
    assert len(got) == len(rows)
