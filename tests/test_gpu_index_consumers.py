"""What reads published index prints: alert rules on the index, break-even priced at it.

The prints are written straight into ``gpu_index_print`` (as ``publish`` stores
them) so each test controls the value it compares.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine, text

from costcurve.alerts.evaluate import evaluate_rules
from db.pipeline import ingest_raw
from tests.conftest import LiveServer
from tests.support import fixture_files, observed_at_for, require_shared
from tests.test_alerts_delivery import make_rule

DAY = datetime(2026, 6, 1, tzinfo=UTC)
CHANNEL = "json://127.0.0.1:9/hook"  # evaluation never sends
TARGET = {"type": "gpu_index", "gpu": "H100-SXM-80GB", "tenor": "on_demand", "segment": "all"}


def store_print(engine: Engine, day: int, value: str | None, contributors: int = 3) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO gpu_index_print (gpu, tenor, segment, interval, period_start, "
                "usd_per_gpu_hour, contributor_count, p10_usd_per_gpu_hour, "
                "p90_usd_per_gpu_hour, contributors, excluded, withheld_reason, "
                "method_version, revision, computed_at) VALUES ('H100-SXM-80GB', 'on_demand', "
                "'all', 'day', :start, :v, :n, :v, :v, CAST(:c AS jsonb), '[]', :why, '1.0.0', "
                "1, now())"
            ),
            {
                "start": DAY + timedelta(days=day),
                "v": Decimal(value) if value else None,
                "n": contributors,
                "c": json.dumps([{"provider": f"p{i}"} for i in range(contributors)]),
                "why": None if value else "min_contributors: 2 of 3 required",
            },
        )


def events(engine: Engine, rule: int) -> list[tuple[Decimal, Decimal | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT value, previous_value FROM alert_event WHERE rule_id = :r ORDER BY id"),
            {"r": rule},
        ).all()
    return [(Decimal(v), Decimal(p) if p is not None else None) for v, p in rows]


def test_index_rule_fires_when_a_published_print_crosses_the_threshold(engine: Engine) -> None:
    rule = make_rule(engine, CHANNEL, target=TARGET, threshold="2.00")
    store_print(engine, 0, "2.10")
    assert evaluate_rules(engine) == []
    store_print(engine, 1, None, contributors=2)  # withheld: no value, no crossing
    assert evaluate_rules(engine) == []
    store_print(engine, 2, "1.95")
    assert len(evaluate_rules(engine)) == 1
    assert events(engine, rule) == [(Decimal("1.95"), Decimal("2.10"))]
    store_print(engine, 3, "1.90")
    assert evaluate_rules(engine) == []  # still below: fires again only after re-arming
    from costcurve.alerts.delivery import describe_target

    assert describe_target(TARGET, "usd_per_gpu_hour") == "costcurve H100-SXM-80GB on_demand index"


def test_breakeven_and_self_hosted_price_the_index_basis_at_the_latest_print(
    engine: Engine,
) -> None:
    from costcurve.core.formulas import usd_per_mtok
    from db.benchmarks import store_points
    from tests.test_api_selfhosted import SWEEP, sweep_point

    require_shared()
    [openrouter] = [p for p in fixture_files("openrouter") if p and "2026-08-03" in p.name]
    ingest_raw(
        engine, "openrouter", openrouter.read_bytes(), observed_at=observed_at_for(openrouter)
    )
    store_points(engine, [sweep_point(*c) for c in SWEEP], model_slug="llama-3.1-8b-instruct")
    store_print(engine, 0, "2.5000", contributors=4)
    store_print(engine, 1, None, contributors=2)  # withheld: the 2.50 print still stands
    from api.main import create_app

    params: dict[str, str | float] = {
        "model": "llama-3.1-8b-instruct",
        "monthly_tokens": 1e10,
        "gpu": "h100 sxm",
        "pricing": "index",
        # The API price in this test is a constructed, old observation.
        "include_stale": "true",
    }
    with LiveServer(create_app(engine)) as server, httpx.Client(base_url=server.url) as client:
        breakeven = client.get("/v1/breakeven", params=params)
        hosted = client.get("/v1/self-hosted", params={"gpu": "H100 SXM"}).json()
        unknown = client.get("/v1/breakeven", params=params | {"gpu": "h100"})
    assert breakeven.status_code == 200, breakeven.text
    text_body = breakeven.text
    assert "costcurve-gpu-index" in text_body
    assert "2.5" in text_body
    [sweep] = hosted["headlines"]
    rate = sweep["rates"]["index"]
    assert (rate["source"], rate["date"], rate["contributor_count"]) == (
        "costcurve-gpu-index",
        DAY.date().isoformat(),
        4,
    )
    assert Decimal(str(rate["usd_per_gpu_hour"])) == Decimal("2.5")
    for point in sweep["points"]:
        tps = Decimal(str(point["output_tokens_per_s_per_gpu"]))
        want = usd_per_mtok(Decimal("2.5"), tps)
        got = Decimal(str(point["costs"]["index"]["output_usd_per_mtok"]))
        assert got == pytest.approx(want, rel=Decimal("1e-6"))
    assert unknown.status_code == 422
    assert "H100-PCIE-80GB" in unknown.json()["detail"]


def test_backfill_gpu_ratecards_cli_twice_opens_nothing_the_second_time(db_url: str) -> None:
    from tests.support import DATASETS
    from tests.test_cli_foundation import cli

    folder = require_shared(DATASETS / "gpu-history" / "gpuidx-backfill")
    first = cli("backfill", "gpu-ratecards", "--file", str(folder), "--json", db_url=db_url)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary["new_versions"] > 0
    assert summary["skipped"] == 0
    second = cli("backfill", "gpu-ratecards", "--file", str(folder), "--json", db_url=db_url)
    again = json.loads(second.stdout.strip().splitlines()[-1])
    assert again == summary | {
        "new_versions": 0,
        "closed_versions": 0,
        "unchanged": summary["rows"],
    }
    bad = cli("backfill", "gpu-daily", db_url=db_url)
    assert bad.returncode == 2
    assert "--file" in bad.stderr
