"""What a rule's value is, and exactly when a rule fires, on real PostgreSQL.

Prices here are constructed observations (not recorded pages): the point is the
evaluation rules, so each test controls every price it compares.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text

from costcurve.alerts.evaluate import evaluate_rules
from costcurve.alerts.values import current_value
from costcurve.catalog.models import load_models
from costcurve.core.observations import LlmPrice, Observation
from db.pipeline import IngestOptions, ingest_observations
from scrapers.registry import get_source
from tests.test_alerts_delivery import count, ingest_runpod, make_rule

LLAMA = "llama-3.3-70b-instruct"
T0 = datetime(2026, 8, 1, tzinfo=UTC)
CHANNEL = "json://127.0.0.1:9/hook"  # evaluation never sends


def llama_target(provider: str | None = None) -> dict[str, Any]:
    return {"type": "model", "model": LLAMA, "provider": provider}


def price(
    provider: str,
    inp: str,
    out: str,
    day: int,
    *,
    model: str = LLAMA,
    **extra: Any,
) -> LlmPrice:
    return LlmPrice(
        source="openrouter",
        provider=provider,
        provider_model_id=f"{provider}/{model}",
        model=model,
        input_usd_per_mtok=Decimal(inp),
        output_usd_per_mtok=Decimal(out),
        observed_at=T0 + timedelta(days=day),
        source_url="https://example.invalid/constructed",
        **extra,
    )


def ingest(engine: Engine, prices: list[LlmPrice], *, complete: bool = False) -> None:
    observations: list[Observation] = list(prices)
    ingest_observations(
        engine,
        get_source("openrouter").SOURCE,
        observations,
        IngestOptions(listing_complete=complete),
    )


def value(engine: Engine, target: dict[str, Any], metric: str) -> Decimal | None:
    with engine.connect() as conn:
        found = current_value(conn, target, metric)
    return found.value if found else None


def events(engine: Engine, rule_id: int) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT value, previous_value FROM alert_event WHERE rule_id = :r "
                "ORDER BY crossed_at"
            ),
            {"r": rule_id},
        ).all()
    return [tuple(r) for r in rows]


@pytest.fixture(autouse=True)
def _catalog_has_llama() -> None:
    if LLAMA not in load_models():
        pytest.skip(f"{LLAMA} is not in catalog/models.yaml")


def test_model_value_is_the_cheapest_standard_paid_text_offering(engine: Engine) -> None:
    ingest(
        engine,
        [
            price("deepinfra", "0.23", "0.40", 0),
            price("together", "0.05", "0.08", 0, variant="batch"),
            price("groq", "0", "0", 0, free=True),
            price("fireworks", "0.10", "0.10", 0, context_tier=">128k"),
            price("novita", "0.01", "0.01", 0, modality="audio"),
            price("lambda", "0.30", "0.35", 0),
        ],
    )
    assert value(engine, llama_target(), "input") == Decimal("0.23")
    assert value(engine, llama_target(), "output") == Decimal("0.35")
    # Blended is per offering, (3 x input + output) / 4, then the minimum.
    assert value(engine, llama_target(), "blended") == Decimal("0.2725")
    assert value(engine, llama_target("lambda"), "input") == Decimal("0.30")
    assert value(engine, llama_target("nobody"), "input") is None


def test_rule_fires_once_per_crossing_and_rearms_when_the_value_goes_back(
    engine: Engine,
) -> None:
    rule = make_rule(engine, CHANNEL, target=llama_target(), metric="output", threshold="0.30")
    late = make_rule(engine, CHANNEL, target=llama_target(), metric="output", threshold="0.30")
    fired = []
    for day, out in enumerate(["0.40", "0.25", "0.27", "0.35", "0.28", "0.20"]):
        ingest(engine, [price("deepinfra", "0.20", out, day)])
        fired.append(len(evaluate_rules(engine)) > 0)
    # 0.40 -> 0.25 crosses; 0.27 stays below; 0.35 re-arms; 0.28 crosses again; 0.20 stays.
    assert fired == [False, True, False, False, True, False]
    assert events(engine, rule) == [
        (Decimal("0.25"), Decimal("0.40")),
        (Decimal("0.28"), Decimal("0.35")),
    ]
    # A rule evaluated after the fact sees the same crossings from the version history.
    assert events(engine, late) == events(engine, rule)
    assert evaluate_rules(engine, since=T0) == []


def test_provider_rule_ignores_other_providers(engine: Engine) -> None:
    rule = make_rule(
        engine, CHANNEL, target=llama_target("together"), metric="output", threshold="0.30"
    )
    ingest(engine, [price("deepinfra", "0.2", "0.40", 0), price("together", "0.2", "0.50", 0)])
    ingest(engine, [price("deepinfra", "0.2", "0.10", 1), price("together", "0.2", "0.45", 1)])
    assert evaluate_rules(engine) == []
    ingest(engine, [price("deepinfra", "0.2", "0.10", 2), price("together", "0.2", "0.29", 2)])
    assert len(evaluate_rules(engine)) == 1
    assert events(engine, rule) == [(Decimal("0.29"), Decimal("0.45"))]


def test_tier_rule_takes_the_cheapest_model_of_the_tier(engine: Engine) -> None:
    frontier = sorted(m.slug for m in load_models().values() if m.tier == "frontier")[:2]
    other = next(m.slug for m in load_models().values() if m.tier != "frontier")
    assert len(frontier) == 2
    a, b = frontier
    rule = make_rule(
        engine,
        CHANNEL,
        target={"type": "tier", "tier": "frontier"},
        metric="blended",
        threshold="2",
    )
    ingest(
        engine,
        [
            price("vendor", "3", "15", 0, model=a),  # blended 6
            price("vendor", "2", "10", 0, model=b),  # blended 4
            price("vendor", "0.1", "0.1", 0, model=other),  # cheaper, but not frontier
        ],
    )
    assert value(engine, {"type": "tier", "tier": "frontier"}, "blended") == Decimal(4)
    ingest(
        engine,
        [
            price("vendor", "3", "15", 1, model=a),
            price("vendor", "1", "4", 1, model=b),  # blended 1.75
            price("vendor", "0.1", "0.1", 1, model=other),
        ],
    )
    (event_id,) = evaluate_rules(engine)
    with engine.connect() as conn:
        slug, value_, previous = conn.execute(
            text(
                "SELECT o.model_slug, e.value, e.previous_value FROM alert_event e "
                "JOIN llm_price_version v ON v.id = e.llm_price_version_id "
                "JOIN llm_offering o ON o.id = v.offering_id WHERE e.id = :e"
            ),
            {"e": event_id},
        ).one()
    assert (slug, value_, previous) == (b, Decimal("1.75"), Decimal(4))
    assert count(engine, "SELECT count(*) FROM alert_event WHERE rule_id = :r", r=rule) == 1


def test_rule_created_while_already_past_threshold_waits_for_the_next_crossing(
    engine: Engine,
) -> None:
    ingest(engine, [price("deepinfra", "0.2", "0.25", 0)])
    rule = make_rule(engine, CHANNEL, target=llama_target(), metric="output", threshold="0.30")
    assert evaluate_rules(engine) == []
    for day, out in enumerate(["0.20", "0.35", "0.29"], start=1):
        ingest(engine, [price("deepinfra", "0.2", out, day)])
        evaluate_rules(engine)
    assert events(engine, rule) == [(Decimal("0.29"), Decimal("0.35"))]


def test_first_price_already_past_threshold_fires_without_a_previous_value(
    engine: Engine,
) -> None:
    rule = make_rule(engine, CHANNEL, target=llama_target(), metric="input", threshold="0.30")
    assert evaluate_rules(engine) == []  # no price yet: nothing to compare
    ingest(engine, [price("deepinfra", "0.23", "0.40", 0)])
    assert len(evaluate_rules(engine)) == 1
    assert events(engine, rule) == [(Decimal("0.23"), None)]


def test_backfilled_old_history_never_fires(engine: Engine) -> None:
    ingest(engine, [price("deepinfra", "0.2", "0.40", 10)])
    rule = make_rule(engine, CHANNEL, target=llama_target(), metric="output", threshold="0.30")
    ingest(engine, [price("deepinfra", "0.2", "0.10", 0)])  # older than what we know
    assert evaluate_rules(engine) == []
    assert value(engine, llama_target(), "output") == Decimal("0.40")
    assert events(engine, rule) == []


def test_withdrawing_the_cheapest_offering_raises_the_minimum(engine: Engine) -> None:
    rule = make_rule(
        engine,
        CHANNEL,
        target=llama_target(),
        metric="output",
        threshold="0.30",
        direction="above",
    )
    ingest(
        engine,
        [price("deepinfra", "0.2", "0.25", 0), price("together", "0.2", "0.50", 0)],
        complete=True,
    )
    assert evaluate_rules(engine) == []
    ingest(engine, [price("together", "0.2", "0.50", 1)], complete=True)
    assert len(evaluate_rules(engine)) == 1
    assert events(engine, rule) == [(Decimal("0.50"), Decimal("0.25"))]


def _benchmark(engine: Engine, throughput: str, gpu_count: int, synthetic: bool) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                text(
                    "INSERT INTO benchmark_result (content_sha256, model_id, model_slug, engine, "
                    "gpu, gpu_count, tensor_parallel_size, input_len, output_len, concurrency, "
                    "num_prompts, output_throughput, total_token_throughput, dummy_weights, "
                    "synthetic, started_at, recorded_at, raw) VALUES (md5(random()::text) || "
                    "md5(random()::text), 'meta-llama/Llama-3.3-70B-Instruct', :slug, 'vllm', "
                    "'H100-SXM-80GB', :n, :n, 1000, 1000, 64, 640, :tput, :tput, false, :syn, "
                    "now(), now(), '{}'::jsonb) RETURNING id"
                ),
                {"slug": LLAMA, "n": gpu_count, "tput": Decimal(throughput), "syn": synthetic},
            ).scalar_one()
        )


def test_self_hosted_value_is_cheapest_rate_over_measured_throughput(engine: Engine) -> None:
    target = {"type": "self_hosted", "model": LLAMA, "gpu": "H100-SXM-80GB"}
    rule = make_rule(engine, CHANNEL, target=target, metric="output", threshold="0.85")
    measured = _benchmark(engine, "2000", 2, synthetic=False)  # 1000 tokens/s per GPU
    _benchmark(engine, "900000", 1, synthetic=True)  # simulated: never priced
    assert value(engine, target, "output") is None  # no GPU rate yet
    ingest_runpod(engine, "2026-08-03")  # H100 SXM on demand: 2.99 $/h
    # 2.99 $/h / (1000 tok/s x 3600 s/h) x 1e6 = 0.830556 $/M tokens
    assert value(engine, target, "output") == Decimal("0.830556")
    assert len(evaluate_rules(engine)) == 1
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT value, previous_value, benchmark_result_id FROM alert_event")
        ).one()
    assert tuple(row) == (Decimal("0.830556"), None, measured)
    ingest_runpod(engine, "2026-08-05")  # 3.29 $/h -> 0.913889, re-arms
    assert evaluate_rules(engine) == []
    assert value(engine, target, "output") == Decimal("0.913889")
    assert events(engine, rule) == [(Decimal("0.830556"), None)]


def test_gpu_value_is_the_minimum_over_providers_for_that_pricing(engine: Engine) -> None:
    ingest_runpod(engine, "2026-08-03")
    gpu = {"type": "gpu", "gpu": "H100-SXM-80GB", "pricing": "on_demand", "provider": None}
    assert value(engine, gpu, "usd_per_gpu_hour") == Decimal("2.99")
    assert value(engine, gpu | {"provider": "runpod"}, "usd_per_gpu_hour") == Decimal("2.99")
    assert value(engine, gpu | {"provider": "lambda"}, "usd_per_gpu_hour") is None


def test_a_revoked_keys_rules_stop_firing_and_a_rotated_key_takes_them_over(
    engine: Engine,
) -> None:
    from costcurve.alerts.admin import all_rules, delete_rule
    from costcurve.alerts.keys import create_key, revoke_key, rotate_key

    owner = create_key(engine, "finops")
    rule = make_rule(
        engine, CHANNEL, target=llama_target(), metric="output", threshold="0.30", key_id=owner.id
    )
    ingest(engine, [price("deepinfra", "0.20", "0.40", 0)])
    evaluate_rules(engine)
    revoke_key(engine, owner.id)
    ingest(engine, [price("deepinfra", "0.20", "0.25", 1)])
    assert evaluate_rules(engine) == [], "a revoked key's rule must not fire"
    assert events(engine, rule) == []
    [listed] = [r for r in all_rules(engine) if r.id == rule]
    assert listed.key_revoked
    assert listed.key_name == "finops"

    # The owner gets a successor key (even for a key already revoked) that owns the rules.
    successor = rotate_key(engine, owner.id)
    [moved] = [r for r in all_rules(engine) if r.id == rule]
    assert (moved.api_key_id, moved.key_revoked) == (successor.id, False)
    ingest(engine, [price("deepinfra", "0.20", "0.35", 2)])
    ingest(engine, [price("deepinfra", "0.20", "0.28", 3)])
    assert evaluate_rules(engine), "the rotated key's rule fires again"
    assert delete_rule(engine, rule)
    assert not [r for r in all_rules(engine) if r.id == rule]
