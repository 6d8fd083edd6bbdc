"""Capability routes on a fresh install (reference prices + shipped scores), through real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from costcurve.config.tiers import TierRule
from db.backfill import load_reference_history
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.score_import import load_shipped_scores
from tests.conftest import TEMPLATE, LiveServer
from tests.support import DATASETS, SHARED, require_shared

TO = "2026-06-30"


@pytest.fixture(scope="module")
def fresh_install(pg: EmbeddedPostgres) -> Iterator[Engine]:
    require_shared(DATASETS / "capability")
    pg.ensure_database("api_capability", template=TEMPLATE)
    engine = make_engine(pg.url("api_capability"))
    load_reference_history(engine)
    load_shipped_scores(engine, SHARED)
    yield engine
    engine.dispose()
    pg.drop_database("api_capability")


@pytest.fixture(scope="module")
def api(fresh_install: Engine) -> Iterator[httpx.Client]:
    from api.main import create_app

    with (
        LiveServer(create_app(fresh_install)) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield client


def _members(body: dict, tier: str) -> dict[str, dict]:
    return {m["model"]: m for m in body["tiers"][tier]}


def test_tiers_in_2024_07_put_gpt4o_and_claude35_sonnet_in_the_frontier(api: httpx.Client) -> None:
    body = api.get("/v1/tiers", params={"as_of": "2024-07-31"}).json()
    frontier = _members(body, "frontier")
    for model in ("gpt-4o", "claude-3.5-sonnet"):
        assert frontier[model]["tier_source"] == "score"
        assert frontier[model]["score_from"]["source"] == "epoch-hub"
        assert frontier[model]["gap_to_best"] <= TierRule().frontier_within
    assert body["best"]["score"] >= max(m["score"] for m in frontier.values())
    assert "llama-guard-3-8b" in body["not_in_a_chat_tier"]
    every = {m for t in body["tiers"].values() for m in (x["model"] for x in t)}
    assert "llama-guard-3-8b" not in every


def test_tiers_move_gpt4_out_of_the_frontier_over_time(api: httpx.Client) -> None:
    early = api.get("/v1/tiers", params={"as_of": "2023-06-30"}).json()
    late = api.get("/v1/tiers", params={"as_of": "2026-03-31"}).json()
    assert "gpt-4" in _members(early, "frontier")
    assert "gpt-4" not in _members(late, "frontier")
    assert "gpt-4" in _members(late, "fast")


def test_unscored_models_are_flagged_as_static_labels(api: httpx.Client) -> None:
    body = api.get("/v1/tiers", params={"as_of": "2025-06-30"}).json()
    flagged = set(body["static_label_models"])
    assert flagged
    for tier in body["tiers"].values():
        for member in tier:
            assert (member["tier_source"] == "static_label") == (member["model"] in flagged)
            if member["tier_source"] == "static_label":
                assert member["score"] is None


@pytest.mark.parametrize("threshold", [115, 125, 140])
def test_eci_deflation_answers_on_a_fresh_install(api: httpx.Client, threshold: int) -> None:
    response = api.get("/v1/deflation", params={"benchmark": "ECI", "threshold": threshold})
    assert response.status_code == 200, response.text
    body = response.json()
    models = body["models"]
    assert body["n"] == len(models) >= 4
    assert all(m["score"] >= threshold for m in models)
    prices = [m["usd_per_mtok"] for m in models]
    assert prices == sorted(prices, reverse=True)
    assert len(set(prices)) == len(prices)
    assert [m["date"] for m in models] == sorted(m["date"] for m in models)
    assert "HAC" in body["robust"]["ci90_method"] or "Santer" in body["robust"]["ci90_method"]


@pytest.mark.parametrize(("benchmark", "threshold"), [("GPQA Diamond", 0.4), ("MATH Level 5", 0.5)])
def test_per_benchmark_deflation_answers(
    api: httpx.Client, benchmark: str, threshold: float
) -> None:
    response = api.get("/v1/deflation", params={"benchmark": benchmark, "threshold": threshold})
    assert response.status_code == 200, response.text
    assert response.json()["n"] >= 4


def test_blend_ratio_changes_the_prices_and_rejects_nonsense(api: httpx.Client) -> None:
    params: dict[str, str | int] = {"benchmark": "ECI", "threshold": 125}
    three = api.get("/v1/deflation", params=params).json()
    even = api.get("/v1/deflation", params={**params, "blend": "1:1"}).json()
    assert three["blend"] == "3:1"
    assert even["blend"] == "1:1"
    # GPT-4 at launch: $30 in / $60 out: 3:1 gives 37.5, 1:1 gives 45.
    assert three["models"][0]["usd_per_mtok"] == 37.5
    assert even["models"][0]["usd_per_mtok"] == 45
    bad = api.get("/v1/deflation", params={**params, "blend": "three"})
    assert bad.status_code == 422
    assert "blend" in bad.json()["detail"]


def test_tier_deflation_states_method_window_and_observed_months(api: httpx.Client) -> None:
    body = api.get("/v1/deflation", params={"tier": "frontier", "to": TO}).json()
    lo, hi = body["ci90"]
    assert lo <= body["factor_per_year"] <= hi
    assert "HAC" in body["ci90_method"] or "Santer" in body["ci90_method"]
    assert body["n"] == len(body["points"])
    assert 0 <= body["r2"] <= 1
    dates = [p["date"] for p in body["points"]]
    assert len(set(dates)) == len(dates)
    assert dates[-1] <= TO + "T23:59:59Z"
    assert body["window"]["from"] == dates[0]
    assert body["window"]["to"] == dates[-1]
    cc = body["constant_capability"]
    assert cc["benchmark"] == "ECI"
    assert cc["n"] >= 4


def test_cost_curve_says_which_question_it_answers(api: httpx.Client) -> None:
    body = api.get("/v1/cost-curve", params={"tier": "frontier", "to": TO}).json()
    assert "price of the frontier" in body["question"]
    assert body["tiers"] == "capability"
    assert body["points"]
    static = api.get("/v1/cost-curve", params={"tier": "frontier", "to": TO, "tiers": "static"})
    assert "static" in static.json()["question"]
    # Membership is per bucket: GPT-4 is cheapest frontier early, gone from it later.
    early = {p["cheapest_model"] for p in body["points"] if p["bucket_start"] < "2023-07"}
    late = {p["cheapest_model"] for p in body["points"] if p["bucket_start"] > "2026-01"}
    assert "gpt-4" in early
    assert "gpt-4" not in late


def test_pareto_frontier_is_cheapest_per_capability_level(api: httpx.Client) -> None:
    body = api.get("/v1/pareto", params={"as_of": "2025-06-30", "metric": "ECI"}).json()
    frontier = body["frontier"]
    assert len(frontier) >= 3
    prices = [m["usd_per_mtok"] for m in frontier]
    scores = [m["score"] for m in frontier]
    assert prices == sorted(prices)
    assert scores == sorted(scores)
    assert len(set(scores)) == len(scores)
    for m in frontier:
        assert m["usd_per_mtok_per_point"] == pytest.approx(m["usd_per_mtok"] / m["score"])
    bad = api.get("/v1/pareto", params={"metric": "No Such Bench"})
    assert bad.status_code == 422


def test_frontier_price_follows_the_best_priced_model_and_may_rise(api: httpx.Client) -> None:
    response = api.get("/v1/frontier-price", params={"metric": "ECI", "to": TO})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "price of the frontier" in body["question"]
    points = body["points"]
    assert body["n"] == len(points) >= 4
    scores = [p["score"] for p in points]
    # The best available model never gets worse as time passes.
    assert scores == sorted(scores)
    assert points[0]["model"] == "gpt-4"
    lo, hi = body["ci90"]
    assert lo <= body["factor_per_year"] <= hi
