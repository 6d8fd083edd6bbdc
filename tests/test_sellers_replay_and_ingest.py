"""The issue-20 sellers through replay and versioned ingest against real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from db.pipeline import RunSpec
from flows.fetchers import Snapshot, read_recording, replay_plan
from flows.steps import parse_snapshot, persist_snapshot
from tests.support import FIXTURES, only_llm, require_shared

NEW_SOURCES = [
    "openrouter_endpoints",
    "openrouter_frontend",
    "bedrock",
    "azure_openai",
    "groq",
    "novita",
]


@pytest.mark.parametrize("source", NEW_SOURCES)
def test_replay_reads_and_parses_the_newest_recording_of_each_new_source(source: str) -> None:
    require_shared(FIXTURES / source)
    (recording,) = replay_plan(FIXTURES, source, all_dates=False)
    observations = parse_snapshot(read_recording(source, recording))
    assert observations
    assert all(o.source == source for o in observations)


def _spec(snapshot: Snapshot) -> RunSpec:
    return RunSpec(trigger="replay", observed_at=snapshot.observed_at)


def _snapshot(source: str, name_part: str) -> Snapshot:
    require_shared(FIXTURES / source)
    plan = replay_plan(FIXTURES, source, all_dates=True)
    recording = next(r for r in plan if name_part in r.path.name)
    return read_recording(source, recording)


def test_azure_deployments_and_regions_are_separate_offerings_in_the_database(
    engine: Engine,
) -> None:
    snapshot = _snapshot("azure_openai", "effective-2025-05-to-08")
    observations = parse_snapshot(snapshot)
    first = persist_snapshot(engine, snapshot, observations, _spec(snapshot))
    assert first.status == "succeeded"
    assert first.new_versions == len(observations)
    again = persist_snapshot(engine, snapshot, observations, _spec(snapshot))
    assert again.new_versions == 0
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT deployment), count(DISTINCT region) "
                "FROM llm_offering WHERE source = 'azure_openai'"
            )
        ).one()
    assert rows[0] == len(observations)
    assert rows[1] >= 2
    assert rows[2] >= 2


def test_frontend_performance_is_stored_beside_the_prices_once(engine: Engine) -> None:
    snapshot = _snapshot(
        "openrouter_frontend", "meta-llama__llama-3.3-70b-instruct_stats-endpoint_2026-08-05"
    )
    observations = parse_snapshot(snapshot)
    with_speed = [o for o in only_llm(observations) if o.performance is not None]
    for _ in range(2):  # idempotent: the second ingest adds no stat rows
        persist_snapshot(engine, snapshot, observations, _spec(snapshot))
    with engine.connect() as conn:
        stats = conn.execute(
            text(
                "SELECT o.endpoint, o.quantization, o.context_length, s.p50_throughput_tps, "
                "v.input_usd_per_mtok FROM llm_endpoint_stat s "
                "JOIN llm_offering o ON o.id = s.offering_id "
                "JOIN llm_price_version v ON v.offering_id = o.id AND v.valid_to IS NULL"
            )
        ).all()
    assert len(stats) == len(with_speed) > 5
    by_endpoint = {row[0]: row for row in stats}
    for o in with_speed:
        _endpoint, quantization, context, throughput, price = by_endpoint[o.endpoint]
        assert (quantization, context) == (o.quantization, o.context_length)
        assert throughput == o.performance.p50_throughput_tps  # type: ignore[union-attr]
        assert price == o.input_usd_per_mtok


def test_a_live_crawl_of_many_pages_gets_the_sources_own_fetch_timeout() -> None:
    from flows.scrape import _fetch_task
    from flows.tasks import FETCH_TIMEOUT_S

    live = _fetch_task("openrouter_endpoints", None)
    assert live.timeout_seconds == 1800 > FETCH_TIMEOUT_S
    assert _fetch_task("bedrock", None).timeout_seconds == FETCH_TIMEOUT_S
    recording = replay_plan(FIXTURES, "openrouter_endpoints", all_dates=False)
    if recording:  # replay reads a file: the default timeout is plenty
        assert _fetch_task("openrouter_endpoints", recording[0]).timeout_seconds == FETCH_TIMEOUT_S


SPEED_QUERY = """
SELECT o.provider, o.endpoint, v.input_usd_per_mtok, v.output_usd_per_mtok,
       s.p50_throughput_tps
FROM llm_offering o
JOIN llm_price_version v ON v.offering_id = o.id AND v.valid_to IS NULL
JOIN LATERAL (SELECT * FROM llm_endpoint_stat s WHERE s.offering_id = o.id
              ORDER BY s.observed_at DESC LIMIT 1) s ON true
WHERE o.model_slug = :model AND s.p50_throughput_tps >= :tps
ORDER BY v.input_usd_per_mtok
"""


def test_the_readme_speed_query_finds_the_cheapest_host_at_a_given_speed(engine: Engine) -> None:
    name = "meta-llama__llama-3.3-70b-instruct_stats-endpoint_2026-08-05"
    snapshot = _snapshot("openrouter_frontend", name)
    observations = parse_snapshot(snapshot)
    persist_snapshot(engine, snapshot, observations, _spec(snapshot))
    tps = 30
    fast = [
        o
        for o in only_llm(observations)
        if o.performance and (o.performance.p50_throughput_tps or 0) >= tps
    ]
    with engine.connect() as conn:
        rows = conn.execute(
            text(SPEED_QUERY), {"model": "llama-3.3-70b-instruct", "tps": tps}
        ).all()
    assert fast
    assert len(rows) == len(fast)
    assert rows[0][2] == min(o.input_usd_per_mtok for o in fast)  # type: ignore[type-var]
