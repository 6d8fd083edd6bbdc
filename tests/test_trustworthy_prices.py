"""Issue 13 on real recorded files: each defect the review found, handled.

Real PostgreSQL, the shared recordings read in place, no network.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
from sqlalchemy import Engine, UniqueConstraint, text

from costcurve.analytics.countable import CountOptions, countable_prices
from costcurve.core.observations import LlmPrice
from db.backfill import backfill, backfill_litellm_files
from db.engine import make_engine
from db.frames import gpu_versions, llm_versions
from db.freshness import horizon_of
from db.ingest import LLM, PRICE_FIELDS, ingest
from db.pipeline import ensure_source, ingest_raw
from db.queries import llm_prices_as_of
from db.screen import decide, screen_all
from scrapers.registry import get_source, parse_source
from tests.support import DATASETS, FIXTURES, fixture_files, observed_at_for, require_shared

LITELLM_2025_10 = FIXTURES / "litellm" / "model_prices_and_context_window_2025-10-13.json"
DEEPSEEK = FIXTURES / "deepseek" / "api-docs_quick_start_pricing_2026-05-08.html"
GEMINI = FIXTURES / "google" / "gemini_pricing_jina_md_2026-05-07.md"
COREWEAVE = (
    FIXTURES / "coreweave" / "coreweave_gpu-cloud-pricing_excerpt_wayback_20230921194906.html"
)


def _ingest(engine: Engine, source: str, path: Path) -> None:
    require_shared(path)
    ingest_raw(engine, source, path.read_bytes(), observed_at=observed_at_for(path))


def _frame(engine: Engine) -> pl.DataFrame:
    return llm_versions(engine)


def _flags(engine: Engine) -> set[tuple[str, str, str]]:
    sql = """
        SELECT o.provider_model_id, f.reason, f.field FROM price_flag f
        JOIN llm_price_version v ON v.id = f.llm_price_version_id
        JOIN llm_offering o ON o.id = v.offering_id WHERE f.status = 'quarantined'
    """
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(text(sql))}


# --- variants ------------------------------------------------------------------------------


def test_openrouterlist_batch_ids_are_stored_as_batch_and_never_counted(engine: Engine) -> None:
    path = require_shared(DATASETS / "openrouterlist" / "prices.json")
    backfill(engine, "openrouterlist", path.read_bytes())
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT provider_model_id, variant, model_slug FROM llm_offering")
        ).all()
    batch = [r for r in rows if r.provider_model_id.endswith(":batch")]
    assert len(batch) >= 60
    assert all(r.variant == "batch" for r in batch)
    suffixed = [r for r in rows if ":" in r.provider_model_id]
    assert all(
        r.variant == r.provider_model_id.rsplit(":", 1)[1].replace("-", "_") or r.variant == "beta"
        for r in suffixed
    )
    counted = countable_prices(_frame(engine))
    assert not counted.filter(pl.col("provider_model_id").str.contains(":")).height
    gemini_batch = next(r for r in batch if r.provider_model_id == "google/gemini-2.5-pro:batch")
    assert gemini_batch.model_slug == "gemini-2.5-pro"


def test_openrouter_live_listings_give_route_suffixes_their_variant() -> None:
    variants: set[str] = set()
    for path in fixture_files("openrouter"):
        obs = parse_source("openrouter", path.read_bytes(), observed_at=observed_at_for(path))
        suffixed = [o for o in obs if isinstance(o, LlmPrice) and ":" in o.provider_model_id]
        for o in suffixed:
            assert o.variant == o.provider_model_id.rsplit(":", 1)[1], o.provider_model_id
            assert o.model is None or ":" not in o.model
        variants |= {o.variant for o in suffixed}
    assert {"batch", "free", "thinking", "exacto"} <= variants


# --- plausibility screen -------------------------------------------------------------------


def test_litellm_unit_errors_are_quarantined_with_a_reason(engine: Engine) -> None:
    _ingest(engine, "litellm", LITELLM_2025_10)
    flags = _flags(engine)
    assert ("oci/xai.grok-4", "far_from_consensus", "output_usd_per_mtok") in flags
    wandb = {f for f in flags if f[0].startswith("wandb/")}
    assert ("wandb/deepseek-ai/DeepSeek-R1-0528", "above_text_cap", "input_usd_per_mtok") in wandb
    assert {f[0] for f in flags} >= {"watsonx/meta-llama/llama-3-2-3b-instruct"}
    counted = countable_prices(_frame(engine))
    kept = set(counted["provider_model_id"].to_list())
    assert "oci/xai.grok-4" not in kept
    assert "xai/grok-4" in kept
    assert not any(m.startswith("wandb/") for m in kept & {f[0] for f in wandb})
    # Kept and versioned all the same, with the value the source gave.
    with engine.connect() as conn:
        (grok,) = llm_prices_as_of(
            conn, observed_at_for(LITELLM_2025_10), provider_model_id="oci/xai.grok-4"
        )
    assert grok["output_usd_per_mtok"] == Decimal("0.15")
    assert (
        countable_prices(_frame(engine), CountOptions(include_quarantined=True))
        .filter(pl.col("provider_model_id") == "oci/xai.grok-4")
        .height
    )


def test_a_persons_decision_overrules_the_screen_and_survives_a_rescreen(engine: Engine) -> None:
    _ingest(engine, "litellm", LITELLM_2025_10)
    with engine.connect() as conn:
        flag_id = conn.execute(
            text(
                "SELECT f.id FROM price_flag f JOIN llm_price_version v "
                "ON v.id = f.llm_price_version_id JOIN llm_offering o ON o.id = v.offering_id "
                "WHERE o.provider_model_id = 'oci/xai.grok-4'"
            )
        ).scalar_one()
    with engine.begin() as conn:
        assert decide(conn, flag_id, "accepted", who="analyst", note="checked Oracle's page")
        screen_all(conn)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, decided_by, decided_at FROM price_flag WHERE id = :i"),
            {"i": flag_id},
        ).one()
    assert (row.status, row.decided_by) == ("accepted", "analyst")
    assert row.decided_at
    counted = countable_prices(_frame(engine))
    assert counted.filter(pl.col("provider_model_id") == "oci/xai.grok-4").height == 1


def test_flags_do_not_depend_on_the_order_sources_were_loaded(engine: Engine) -> None:
    # openrouter's listing arrives after LiteLLM's; recomputing everything from
    # scratch finds exactly the flags the incremental screens left.
    _ingest(engine, "litellm", LITELLM_2025_10)
    _ingest(engine, "openrouter", FIXTURES / "openrouter" / "api_v1_models_wrapped_2025-12-29.json")
    incremental = _flags(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM price_flag"))
        screen_all(conn)
    assert _flags(engine) == incremental
    assert incremental


# --- promotions ----------------------------------------------------------------------------


def test_deepseek_promotion_ends_on_its_stated_date_and_the_list_price_stays(
    engine: Engine,
) -> None:
    _ingest(engine, "deepseek", DEEPSEEK)
    with engine.connect() as conn:
        during = llm_prices_as_of(conn, datetime(2026, 5, 20, tzinfo=UTC), model="deepseek-v4-pro")
        after = llm_prices_as_of(conn, datetime(2026, 12, 1, tzinfo=UTC), model="deepseek-v4-pro")
    assert {(r["variant"], r["input_usd_per_mtok"]) for r in during} == {
        ("standard", Decimal("1.74")),
        ("promotion", Decimal("0.435")),
    }
    (listed,) = after
    assert (listed["variant"], listed["output_usd_per_mtok"]) == ("standard", Decimal("3.48"))
    promo = next(r for r in during if r["variant"] == "promotion")
    assert promo["valid_to"] == datetime(2026, 5, 31, 16, tzinfo=UTC)
    frame = _frame(engine).filter(pl.col("model") == "deepseek-v4-pro")
    assert set(countable_prices(frame)["variant"]) == {"standard"}
    with_promo = countable_prices(frame, CountOptions(include_promotions=True, include_stale=True))
    assert set(with_promo["variant"]) == {"standard", "promotion"}


# --- base context tier ---------------------------------------------------------------------


def test_google_base_tier_price_counts_and_the_long_context_tier_does_not(
    engine: Engine,
) -> None:
    _ingest(engine, "google", GEMINI)
    frame = _frame(engine).filter(pl.col("model") == "gemini-2.5-pro")
    counted = countable_prices(frame, CountOptions(include_stale=True))
    assert set(zip(counted["variant"], counted["context_tier"], strict=True)) == {
        ("standard", "<=200k")
    }
    assert counted["input_usd_per_mtok"].cast(pl.Float64).to_list() == [1.25]


# --- freshness -----------------------------------------------------------------------------


def test_coreweave_2023_rates_stop_counting_after_their_horizon(engine: Engine) -> None:
    _ingest(engine, "coreweave", COREWEAVE)
    seen = observed_at_for(COREWEAVE)
    rates = gpu_versions(engine).filter(pl.col("source") == "coreweave")
    assert rates.height
    counted = countable_prices(rates)
    assert (counted["valid_to"] == seen + horizon_of("coreweave")).all()
    assert countable_prices(rates, CountOptions(include_stale=True))["valid_to"].is_null().all()


def test_reference_rows_stop_counting_once_a_live_source_lists_the_offering(
    engine: Engine,
) -> None:
    from db.backfill import load_reference_history

    load_reference_history(engine)
    backfill_litellm_files(
        engine, [FIXTURES / "litellm" / "model_prices_and_context_window_2025-02-14.json"]
    )
    frame = _frame(engine).filter((pl.col("source") == "reference") & (pl.col("model") == "gpt-4o"))
    assert frame.height
    assert frame["covered_from"].is_not_null().all()
    counted = countable_prices(frame, CountOptions())
    assert (counted["valid_to"] <= counted["covered_from"]).all()


# --- precision -----------------------------------------------------------------------------


def test_databricks_float_prices_are_published_prices_and_no_change(engine: Engine) -> None:
    files = sorted((FIXTURES / "litellm").glob("*2026-0[14]-14.json"))
    backfill_litellm_files(engine, files)
    with engine.connect() as conn:
        rows = llm_prices_as_of(
            conn, observed_at_for(files[-1]), provider_model_id="databricks/databricks-gpt-5"
        )
        versions = conn.execute(
            text(
                "SELECT count(*) FROM llm_price_version v JOIN llm_offering o "
                "ON o.id = v.offering_id WHERE o.provider_model_id = 'databricks/databricks-gpt-5'"
                " AND o.variant = 'standard' AND o.context_tier IS NULL"
            )
        ).scalar_one()
    std = next(r for r in rows if r["variant"] == "standard" and r["context_tier"] is None)
    assert (std["input_usd_per_mtok"], std["output_usd_per_mtok"]) == (Decimal("1.25"), Decimal(10))
    assert versions == 1


# --- model identity per version -----------------------------------------------------------


def test_a_moving_pointer_keeps_the_model_it_pointed_to_per_version(engine: Engine) -> None:
    def seen(day: datetime, model: str) -> LlmPrice:
        return LlmPrice(
            source="deepseek",
            provider="deepseek",
            provider_model_id="deepseek-chat",
            model=model,
            input_usd_per_mtok=Decimal("0.27"),
            output_usd_per_mtok=Decimal("1.1"),
            observed_at=day,
            source_url="https://api-docs.deepseek.com/quick_start/pricing",
        )

    first = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        ensure_source(conn, get_source("deepseek").SOURCE)
        ingest(conn, "deepseek", [seen(first, "deepseek-v3")], listing_complete=False)
    with engine.begin() as conn:
        ingest(
            conn,
            "deepseek",
            [seen(first + timedelta(days=90), "deepseek-v3-0324")],
            listing_complete=False,
        )
    with engine.connect() as conn:
        models = (
            conn.execute(text("SELECT model_slug FROM llm_price_version ORDER BY valid_from"))
            .scalars()
            .all()
        )
    assert models == ["deepseek-v3", "deepseek-v3-0324"]


# --- ingest columns come from the tables ---------------------------------------------------


def test_ingest_versions_every_value_column_and_reports_free_and_offer_count() -> None:
    assert "free" in PRICE_FIELDS["llm_price"]
    assert "offer_count" in PRICE_FIELDS["gpu_rate"]
    assert "model_slug" in LLM.value_columns
    assert "model_slug" not in LLM.price_fields
    (key,) = [c for c in LLM.offering.constraints if c.name == "uq_llm_offering_key"]
    assert isinstance(key, UniqueConstraint)
    assert LLM.key_columns == tuple(c.name for c in key.columns)
    assert {"variant", "context_tier", "modality"} <= set(LLM.key_columns)


# --- undated captures ----------------------------------------------------------------------


def test_an_undated_capture_needs_observed_at_and_never_uses_the_file_time(db_url: str) -> None:
    from tests.test_cli_foundation import cli

    path = require_shared(FIXTURES / "aws" / "ec2_ondemand_linux_gpu_subset_ewyluda.json")
    refused = cli("ingest", "aws", str(path), db_url=db_url)
    assert refused.returncode == 2
    assert "--observed-at" in refused.stderr
    taken = cli("ingest", "aws", str(path), "--observed-at", "2026-09-30", "--json", db_url=db_url)
    assert taken.returncode == 0, taken.stderr
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            seen = (
                conn.execute(
                    text("SELECT DISTINCT first_seen_at FROM gpu_offering WHERE source = 'aws'")
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert seen == [datetime(2026, 9, 30, tzinfo=UTC)]


# --- change reports ------------------------------------------------------------------------


def test_change_reports_list_free_and_offer_count_and_skip_float_noise() -> None:
    from db.ingest import PriceChange
    from flows.steps import change_rows

    at = datetime(2026, 1, 1, tzinfo=UTC)
    gpu = PriceChange(
        "gpu_rate",
        1,
        {"source": "vastai", "provider": "vastai", "gpu": "H100-SXM-80GB"},
        1,
        2,
        {"usd_per_gpu_hour": Decimal("1.5"), "usd_per_instance_hour": None, "offer_count": 40},
        {"usd_per_gpu_hour": Decimal("1.5"), "usd_per_instance_hour": None, "offer_count": 12},
        at,
    )
    assert [r["price"] for r in change_rows(gpu)] == ["offer_count"]
    old = dict.fromkeys(PRICE_FIELDS["llm_price"]) | {
        "input_usd_per_mtok": Decimal("1.24999"),
        "free": False,
    }
    new = old | {"input_usd_per_mtok": Decimal("1.25"), "free": True}
    llm = PriceChange("llm_price", 2, {"provider_model_id": "m"}, 3, 4, old, new, at)
    assert [r["price"] for r in change_rows(llm)] == ["free"]
