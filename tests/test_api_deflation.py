"""Deflation endpoints over the curated reference history, through real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from db.backfill import load_reference_history
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.scores import ScoreImportError, epoch_frame, import_scores, parse_scores_csv
from tests.conftest import TEMPLATE, LiveServer

# Test input written for this test (wide format, as the deflation CSV): scores
# chosen so that every model but claude-3-haiku (below the threshold) is on the
# MMLU >= 80 price frontier at its launch price from the reference history:
# blended 37.5 (gpt-4), 15 (gpt-4-turbo), 7.5 (gpt-4o), 6 (claude-3.5-sonnet),
# 0.26 (gpt-4o-mini), 0.175 (gemini-2.0-flash).
SCORES = """model,MMLU,GPQA Diamond
gpt-4,86.4,
gpt-4-turbo,86.5,
gpt-4o,88.7,53.6
gpt-4o-mini,82.0,40.2
claude-3.5-sonnet,88.7,59.4
gemini-2.0-flash,83.6,60.1
claude-3-haiku,75.2,
"""


@pytest.fixture(scope="module")
def history(pg: EmbeddedPostgres) -> Iterator[Engine]:
    pg.ensure_database("api_deflation", template=TEMPLATE)
    engine = make_engine(pg.url("api_deflation"))
    load_reference_history(engine)
    import_scores(engine, parse_scores_csv(SCORES))
    yield engine
    engine.dispose()
    pg.drop_database("api_deflation")


@pytest.fixture(scope="module")
def api(history: Engine) -> Iterator[httpx.Client]:
    from api.main import create_app

    with LiveServer(create_app(history)) as server, httpx.Client(base_url=server.url) as client:
        yield client


def test_frontier_tier_deflation_fits_the_reference_history(api: httpx.Client) -> None:
    body = api.get("/v1/deflation", params={"tier": "frontier", "to": "2026-06-30"}).json()
    assert body["method"] == "tier_cheapest_exponential"
    assert body["n"] >= 12
    lo, hi = body["ci90"]
    assert lo <= body["factor_per_year"] <= hi
    assert 0 <= body["r2"] <= 1
    # The series is the tier's monthly minimum: never rising without a new listing.
    assert body["points"][0]["date"].startswith("2023-")


def test_epoch_deflation_keeps_the_price_frontier_in_release_order(api: httpx.Client) -> None:
    response = api.get("/v1/deflation", params={"benchmark": "MMLU", "threshold": 80})
    assert response.status_code == 200, response.text
    body = response.json()
    kept = [m["model"] for m in body["models"]]
    assert kept == [
        "gpt-4",
        "gpt-4-turbo",
        "gpt-4o",
        "claude-3.5-sonnet",
        "gpt-4o-mini",
        "gemini-2.0-flash",
    ]
    prices = [m["usd_per_mtok"] for m in body["models"]]
    assert prices == sorted(prices, reverse=True)
    assert body["n"] == 6
    assert body["factor_per_year"] > 1


def test_epoch_deflation_with_too_few_models_is_a_422(api: httpx.Client) -> None:
    response = api.get("/v1/deflation", params={"benchmark": "GPQA Diamond", "threshold": 59})
    assert response.status_code == 422
    assert "at least 4" in response.json()["detail"]


def test_epoch_deflation_names_the_available_benchmarks(api: httpx.Client) -> None:
    response = api.get("/v1/deflation", params={"benchmark": "HLE", "threshold": 10})
    assert response.status_code == 422
    assert "MMLU" in response.json()["detail"]
    assert "GPQA Diamond" in response.json()["detail"]


def test_epoch_frame_prices_models_at_introduction(history: Engine) -> None:
    frame = epoch_frame(history)
    gpt4 = frame.filter(frame["model"] == "gpt-4").row(0, named=True)
    # GPT-4 launched at $30 input / $60 output: blended (3*30 + 60) / 4 = 37.5.
    assert gpt4["usd_per_mtok"] == pytest.approx(37.5)


def test_scores_csv_with_an_unknown_model_is_rejected_with_its_line() -> None:
    with pytest.raises(ScoreImportError, match="line 3"):
        parse_scores_csv("model,benchmark,score\ngpt-4o,MMLU,88.7\nno-such-model,MMLU,1\n")


def test_scores_import_cli_reports_counts(tmp_path: Path, db_url: str) -> None:
    from tests.test_cli_foundation import cli

    path = tmp_path / "scores.csv"
    path.write_text(SCORES)
    result = cli("scores", "import", str(path), db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "imported 11 scores for 7 models" in result.stdout
