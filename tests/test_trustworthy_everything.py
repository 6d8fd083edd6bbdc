"""Every shared dataset and capture loaded: the curves, current prices, anomalies,
comparison and sources a user sees are free of the artefacts issue 13 found.

One database for the module (loading everything takes about a minute), read
through the real HTTP API and the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from costcurve.catalog.models import TIERS
from db.countable_sql import LLM_NOT_EXCLUDED_SQL, STANDARD_LLM_SQL, horizon_seconds_sql
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from tests.conftest import TEMPLATE, LiveServer
from tests.load_all import load_everything
from tests.support import SHARED, require_shared
from tests.test_cli_foundation import cli

DB = "t_everything_13"


@pytest.fixture(scope="module")
def loaded(pg: EmbeddedPostgres) -> Iterator[tuple[Engine, str]]:
    require_shared(SHARED / "fixtures")
    pg.ensure_database(DB, template=TEMPLATE)
    engine = make_engine(pg.url(DB))
    load_everything(engine, SHARED)
    yield engine, pg.url(DB)
    engine.dispose()
    pg.drop_database(DB)


@pytest.fixture(scope="module")
def api(loaded: tuple[Engine, str]) -> Iterator[str]:
    from api.main import create_app

    with LiveServer(create_app(loaded[0])) as server:
        yield server.url


def _get(api: str, path: str, **params: Any) -> Any:
    response = httpx.get(api + path, params=params, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


# The version of an offering in effect at an instant, and whether it counts then.
_CHEAPEST_SQL = f"""
    SELECT o.variant, o.context_tier, o.source,
           {STANDARD_LLM_SQL} AS standard, {LLM_NOT_EXCLUDED_SQL} AS screened_ok,
           (EXISTS (SELECT 1 FROM llm_price_version n WHERE n.offering_id = v.offering_id
                    AND n.valid_from = v.valid_to)
            OR v.last_seen_at + make_interval(secs => {horizon_seconds_sql()}) >= :at) AS fresh
    FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id
    WHERE v.offering_id = :offering AND v.valid_from < :at
      AND (v.valid_to IS NULL OR v.valid_to >= :at)
"""


@pytest.mark.parametrize("tier", TIERS)
def test_no_curve_bucket_is_set_by_a_variant_promotion_quarantined_or_stale_price(
    loaded: tuple[Engine, str], api: str, tier: str
) -> None:
    points = _get(api, "/v1/cost-curve", tier=tier, **{"from": "2023-03-01"})["points"]
    if tier == "frontier":
        assert len(points) >= 36
    with loaded[0].connect() as conn:
        for point in points:
            at = datetime.fromisoformat(point["as_of"].replace("Z", "+00:00"))
            rows = conn.execute(
                text(_CHEAPEST_SQL), {"offering": point["cheapest_offering_id"], "at": at}
            ).all()
            assert rows, point
            for row in rows:
                assert row.standard, (point, row)
                assert row.variant == "standard", (point, row)
                assert row.screened_ok, (point, row)
                assert row.fresh, (point, row)


def test_the_frontier_curve_shows_no_artefact_prices(api: str) -> None:
    points = _get(api, "/v1/cost-curve", tier="frontier", **{"from": "2023-03-01"})["points"]
    # The artefacts: a batch id, a $0.15 output grok, float-noise Databricks.
    assert not any(":" in (p["cheapest_model"] or "") for p in points)
    assert all(p["max"] <= 1000 for p in points)
    providers = {p["cheapest_provider"] for p in points}
    assert "databricks" not in providers
    assert "oci" not in providers
    last = max(p["bucket_start"] for p in points)
    assert last < datetime.now(UTC).isoformat()  # nothing is carried to today


def test_stale_prices_are_left_out_of_current_prices_unless_asked(api: str) -> None:
    current = _get(api, "/v1/prices", model="claude-2", limit=1000)
    assert current["items"] == []
    stale = _get(api, "/v1/prices", model="claude-2", include_stale="true", limit=1000)
    assert stale["items"]
    assert all(r["stale"] for r in stale["items"])
    assert all("last_seen_at" in r for r in stale["items"])
    gpus = _get(api, "/v1/gpu-rates", provider="coreweave", include_stale="true", limit=1000)
    assert gpus["items"]
    assert all(r["stale"] for r in gpus["items"])
    assert _get(api, "/v1/gpu-rates", provider="coreweave")["items"] == []


def test_sources_report_success_failure_rows_and_freshness(api: str) -> None:
    items = {s["source"]: s for s in _get(api, "/v1/sources")["items"]}
    coreweave = items["coreweave"]
    assert coreweave["freshness"] == "stale"
    assert coreweave["last_success_at"]
    assert coreweave["current_rows"] == coreweave["stale_rows"] > 0
    assert coreweave["horizon_days"] >= 7
    openai = items["openai"]  # one recording is a Cloudflare block page
    assert openai["last_failure_at"]
    assert "blocked" in openai["last_failure_error"]


def test_anomalies_list_the_litellm_unit_errors_with_reason_value_and_consensus(api: str) -> None:
    rows = _get(api, "/v1/anomalies", source="litellm", limit=1000)["items"]
    grok = [r for r in rows if r["offering"] == "oci/xai.grok-4"]
    assert grok
    assert grok[0]["reason"] == "far_from_consensus"
    assert grok[0]["source_value"] == 0.15
    assert grok[0]["consensus"] == 15
    assert any(r["provider"] == "wandb" and r["reason"] == "above_text_cap" for r in rows)


def test_compare_shows_each_sources_price_consensus_and_markup(api: str) -> None:
    body = _get(api, "/v1/prices/compare", model="grok-4", as_of="2025-10-20")
    assert body["consensus_blended_usd_per_mtok"] == 6  # (3 x 3 + 15) / 4
    by_provider = {r["provider"]: r for r in body["listings"]}
    assert by_provider["oci"]["quarantined"] is True
    assert by_provider["xai"]["first_party"] is True
    assert by_provider["xai"]["markup_vs_first_party_pct"] == 0
    assert by_provider["oci"]["deviation_pct"] < -50
    bad = httpx.get(api + "/v1/prices/compare", params={"model": "no-such-model"})
    assert bad.status_code == 422
    assert "model" in bad.text


def test_cli_lists_and_decides_anomalies_with_who_and_when(loaded: tuple[Engine, str]) -> None:
    engine, url = loaded
    listed = cli(
        "anomalies", "list", "--source", "litellm", "--reason", "above_text_cap", db_url=url
    )
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert rows
    assert all(r["reason"] == "above_text_cap" for r in rows)
    flag = rows[0]["id"]
    decided = cli("anomalies", "reject", str(flag), "--who", "reviewer", db_url=url)
    assert decided.returncode == 0, decided.stderr
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, decided_by, decided_at FROM price_flag WHERE id = :i"),
            {"i": flag},
        ).one()
    assert (row.status, row.decided_by) == ("rejected", "reviewer")
    assert row.decided_at
    missing = cli("anomalies", "accept", "999999999", db_url=url)
    assert missing.returncode == 1
    assert "no anomaly" in missing.stderr


def test_changes_list_no_float_noise_moves(api: str) -> None:
    from decimal import Decimal

    from costcurve.core.offer_terms import same_price

    def same(a: Any, b: Any) -> bool:
        if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
            return bool(a == b)
        return same_price(Decimal(str(a)), Decimal(str(b)))

    rows = _get(api, "/v1/changes", limit=1000)["items"]
    assert rows
    for row in rows:
        names = [k[4:] for k in row if k.startswith("new_")]
        assert any(not same(row[f"old_{n}"], row[f"new_{n}"]) for n in names), row
