"""The scrape run's cost-curve artifact: links plus the last 12 buckets; readable change rows."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from db.backfill import load_reference_history
from flows.curve_artifact import LAST_BUCKETS, curve_markdown, fetch_points
from flows.report import readable_changes
from tests.conftest import LiveServer


def test_curve_artifact_tables_the_last_12_buckets_the_api_returns(engine: Engine) -> None:
    from api.main import create_app

    load_reference_history(engine)
    with LiveServer(create_app(engine)) as server:
        url = f"{server.url}/v1/cost-curve?tier=frontier"
        points = asyncio.run(fetch_points(server.url, url))
    assert points is not None
    assert len(points) > LAST_BUCKETS
    text = curve_markdown("cost curve, frontier tier", url, points)
    rows = [line for line in text.splitlines() if line.startswith("| 20")]
    assert len(rows) == LAST_BUCKETS
    for line, point in zip(rows, points[-LAST_BUCKETS:], strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[0] == point["as_of"][:10]
        assert float(cells[1]) == float(f"{point['min']:.4g}")
        assert cells[2] == point["cheapest_model"]
        assert cells[6] == str(point["count"])
    assert f"[JSON]({url})" in text
    assert "/ui/curves?tier=frontier" in text


def test_curve_artifact_without_a_reachable_api_keeps_the_links() -> None:
    url = "http://127.0.0.1:9/v1/cost-curve?tier=good"
    points = asyncio.run(fetch_points("http://127.0.0.1:9", url))
    assert points is None
    text = curve_markdown("cost curve, good tier", url, points)
    assert "not reachable" in text
    assert f"[JSON]({url})" in text


def test_change_rows_fold_into_six_short_columns_keeping_every_value() -> None:
    row = {
        "source": "openrouter",
        "provider": "deepinfra",
        "offering": "meta-llama/llama-3.3-70b-instruct",
        "detail": "standard",
        "price": "input_usd_per_mtok",
        "old": "0.23",
        "new": "0.2",
        "change_pct": "-13.0%",
        "at": "2026-08-03",
    }
    [folded] = readable_changes([row])
    assert len(folded) == 6
    assert folded["old → new"] == "0.23 → 0.2"
    assert folded["change"] == "-13.0%"
    assert folded["offering"] == "deepinfra meta-llama/llama-3.3-70b-instruct (standard)"
