"""GPU history importers, published index prints, verify and the API, on the shared data.

Row counts are computed from the files here with the stdlib csv/json readers,
following the rules the importers document (one observation for a row over one
offer, min/median/max for a row over several; min and avg per marketplace
provider entry; one per rate-card vote plus one per published month).
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from costcurve.indexes.gpu import publish, verify
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.gpu_backfill import backfill_gpu_dataset
from tests.conftest import TEMPLATE, LiveServer
from tests.support import DATASETS, require_shared
from tests.test_cli_foundation import cli

HISTORY = DATASETS / "gpu-history"
DAILY = HISTORY / "cherielilili-daily" / "observations.csv"
RATECARDS = HISTORY / "gpuidx-backfill"
MARKET = HISTORY / "tugot17-primeintellect"
BREAK = date(2026, 5, 8)
STATE: dict[str, Any] = {}


def daily_rows() -> list[dict[str, str]]:
    with DAILY.open(newline="") as f:
        return list(csv.DictReader(f))


def expected_daily_observations(rows: list[dict[str, str]]) -> int:
    return sum(1 if int(r["n_offers"]) == 1 else 3 for r in rows)


@pytest.fixture(scope="module")
def store(pg: EmbeddedPostgres) -> Iterator[Engine]:
    require_shared(DAILY)
    pg.ensure_database("gpu_index_store", template=TEMPLATE)
    engine = make_engine(pg.url("gpu_index_store"))
    daily = backfill_gpu_dataset(engine, "gpu-daily", DAILY)
    cards = backfill_gpu_dataset(engine, "gpu-ratecards", RATECARDS)
    STATE["outcomes"] = (daily, cards)
    STATE["published"] = publish(engine, intervals=("day",))
    yield engine
    engine.dispose()
    pg.drop_database("gpu_index_store")


@pytest.fixture(scope="module")
def api(store: Engine) -> Iterator[httpx.Client]:
    from api.main import create_app

    with LiveServer(create_app(store)) as server, httpx.Client(base_url=server.url) as client:
        yield client


def test_gpu_daily_import_versions_every_row_under_its_own_source(store: Engine) -> None:
    daily, _ = STATE["outcomes"]
    rows = daily_rows()
    assert daily.result.observations == expected_daily_observations(rows)
    assert daily.result.skipped == 0
    assert not daily.skipped
    with store.connect() as conn:
        kinds = dict(conn.execute(text("SELECT slug, kind FROM source")).tuples().all())
        offering_sources = {
            r[0] for r in conn.execute(text("SELECT DISTINCT source FROM gpu_offering"))
        }
        urls = {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT DISTINCT source_url FROM gpu_rate_version v "
                    "JOIN gpu_offering o ON o.id = v.offering_id WHERE o.source = 'gpu-daily'"
                )
            )
        }
    assert kinds == {"gpu-daily": "dataset", "gpu-ratecards": "comparison"}
    assert offering_sources == {"gpu-daily", "gpu-ratecards"}
    assert urls == {r["source_url"] for r in rows}


def test_gpu_daily_import_twice_opens_nothing(store: Engine) -> None:
    again = backfill_gpu_dataset(store, "gpu-daily", DAILY)
    assert again.result.new_versions == 0
    assert again.result.closed_versions == 0
    assert again.result.unchanged == again.result.observations


def test_ratecard_import_counts_votes_and_published_months(store: Engine) -> None:
    _, cards = STATE["outcomes"]
    with (RATECARDS / "backfill_ratecards.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    votes = sum(len([v for v in r["providers"].split(";") if v]) for r in rows)
    published = sum(1 for r in rows if r["status"] == "published" and r["value"])
    with (RATECARDS / "provider_votes_monthly.csv").open(newline="") as f:
        assert votes == sum(1 for _ in csv.DictReader(f))
    assert cards.result.observations == votes + published


def test_marketplace_parser_reads_min_and_avg_of_every_provider_entry() -> None:
    from scrapers.history import gpu_marketplace

    require_shared(MARKET)
    total = 0
    for path in sorted((MARKET / "summary").glob("*.jsonl.gz")):
        raw = gzip.decompress(path.read_bytes())
        entries = sum(len(json.loads(line)["by_provider"]) for line in raw.splitlines() if line)
        parsed = gpu_marketplace.parse(raw)
        assert len(parsed.rates) == 2 * entries
        assert not parsed.skipped
        assert {r.pricing for r in parsed.rates} == {"community"}
        total += entries
    with (MARKET / "by_provider.csv").open(newline="") as f:
        assert total == sum(1 for _ in csv.DictReader(f))


def test_marketplace_import_of_one_file_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    require_shared(MARKET)
    [small] = list((MARKET / "summary").glob("GH200*.jsonl.gz"))
    (tmp_path / small.name).symlink_to(small)
    first = backfill_gpu_dataset(engine, "gpu-marketplace", tmp_path)
    raw = gzip.decompress(small.read_bytes())
    entries = sum(len(json.loads(line)["by_provider"]) for line in raw.splitlines() if line)
    assert first.result.observations == 2 * entries
    second = backfill_gpu_dataset(engine, "gpu-marketplace", tmp_path)
    assert second.result.new_versions == 0
    assert second.result.closed_versions == 0


def _series(api: httpx.Client, **params: str) -> list[dict[str, object]]:
    response = api.get("/v1/gpu-index", params={"gpu": "H100-SXM-80GB"} | params)
    assert response.status_code == 200, response.text
    points: list[dict[str, object]] = response.json()["points"]
    return points


def test_h100_on_demand_index_is_a_daily_series_with_contributors(api: httpx.Client) -> None:
    points = _series(api, tenor="on_demand")
    days = [date.fromisoformat(str(p["date"])) for p in points]
    rows = daily_rows()
    first = min(date.fromisoformat(r["date"]) for r in rows if r["gpu_model"] == "H100_SXM")
    assert days[0] == first
    assert days == sorted(days)
    published = [p for p in points if p["usd_per_gpu_hour"] is not None]
    assert len(published) > 100
    for p in published:
        lo, hi = Decimal(str(p["p10_usd_per_gpu_hour"])), Decimal(str(p["p90_usd_per_gpu_hour"]))
        assert lo <= Decimal(str(p["usd_per_gpu_hour"])) <= hi
        assert int(str(p["contributor_count"])) >= 3
        assert p["method_version"]


def test_structural_break_changes_contributors_not_the_price_level(api: httpx.Client) -> None:
    points = {
        str(p["date"]): p
        for p in _series(api, tenor="on_demand", **{"from": "2026-05-01", "to": "2026-05-16"})
    }
    before, after = points["2026-05-07"], points["2026-05-11"]
    before_providers, after_providers = before["providers"], after["providers"]
    assert isinstance(before_providers, list)
    assert isinstance(after_providers, list)
    assert set(before_providers) != set(after_providers)
    assert int(str(after["contributor_count"])) < int(str(before["contributor_count"]))

    def band(day: str) -> tuple[Decimal, Decimal]:
        return (
            Decimal(str(points[day]["p10_usd_per_gpu_hour"])),
            Decimal(str(points[day]["p90_usd_per_gpu_hour"])),
        )

    def level(day: str) -> Decimal:
        return Decimal(str(points[day]["usd_per_gpu_hour"]))

    # Each day of the change-over stays inside the previous day's p10-p90 band.
    days = sorted(points)
    change_over = [d for d in days if d <= "2026-05-11"]
    for prev, cur in itertools.pairwise(change_over):
        lo, hi = band(prev)
        assert lo <= level(cur) <= hi, (prev, cur)
    # And every day after it stays inside the band of the last day before the
    # break. (Day to day after the break, 4-5 contributors make a band too narrow
    # to compare with: one provider missing for a day moves it.)
    lo, hi = band("2026-05-07")
    assert all(lo <= level(d) <= hi for d in days if d > "2026-05-07"), [level(d) for d in days]


def test_aliases_resolve_and_bad_names_are_422s(api: httpx.Client) -> None:
    canonical = _series(api)
    assert _series(api, gpu="h100-sxm-80gb") == canonical == _series(api, gpu="H100 SXM")
    ambiguous = api.get("/v1/gpu-index", params={"gpu": "h100"})
    assert ambiguous.status_code == 422
    assert "H100-PCIE-80GB" in ambiguous.json()["detail"]
    for route in ("/v1/gpu-rates", "/v1/gpu-rates/history", "/v1/gpu-index", "/v1/self-hosted"):
        unknown = api.get(route, params={"gpu": "H1OO SXM"})
        assert unknown.status_code == 422
        assert "H100-SXM-80GB" in unknown.json()["detail"]
    # The recorded rates are months old: list them past their freshness horizon.
    params: dict[str, str | int | bool] = {"gpu": "h100 sxm", "limit": 5, "include_stale": True}
    rates = api.get("/v1/gpu-rates", params=params).json()
    assert rates["items"]
    assert {r["gpu"] for r in rates["items"]} == {"H100-SXM-80GB"}


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"to": "9999-12-31"}, "to"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "to"),
        ({"tenor": "forever"}, "tenor"),
        ({"interval": "decade"}, "interval"),
        ({"segment": "\x00"}, "segment"),
    ],
)
def test_bad_index_parameters_are_422s_naming_them(
    api: httpx.Client, params: dict[str, str], names: str
) -> None:
    response = api.get("/v1/gpu-index", params={"gpu": "H100-SXM-80GB"} | params)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(names)


def test_gpus_route_lists_canonical_names_with_aliases(api: httpx.Client) -> None:
    items = {i["gpu"]: i for i in api.get("/v1/gpus").json()["items"]}
    assert "H100 SXM" in items["H100-SXM-80GB"]["aliases"]
    assert "h100-sxm-80gb" in items["H100-SXM-80GB"]["aliases"]
    assert "H200" in items["H200-SXM-141GB"]["aliases"]


def test_index_csv_and_monthly_interval(api: httpx.Client) -> None:
    csv_text = api.get("/v1/gpu-index", params={"gpu": "H100-SXM-80GB", "format": "csv"}).text
    header = csv_text.splitlines()[0].split(",")
    assert header[:3] == ["date", "usd_per_gpu_hour", "contributor_count"]
    months = _series(api, interval="month")
    assert [m["date"] for m in months] == [
        "2026-02-01",
        "2026-03-01",
        "2026-04-01",
        "2026-05-01",
        "2026-06-01",
    ]


def test_latest_lists_each_gpu_and_tenor_once(api: httpx.Client) -> None:
    items = api.get("/v1/gpu-index/latest").json()["items"]
    keys = [(i["gpu"], i["tenor"]) for i in items]
    assert len(keys) == len(set(keys))
    assert ("H100-SXM-80GB", "on_demand") in keys
    assert all(i["usd_per_gpu_hour"] is not None and i["contributors"] for i in items)


def test_ratecard_comparison_series_never_enters_the_index(store: Engine) -> None:
    with store.connect() as conn:
        sources = {
            s
            for (c,) in conn.execute(text("SELECT contributors FROM gpu_index_print"))
            for entry in c
            for s in entry["sources"]
        }
    assert sources == {"gpu-daily"}


def test_breakeven_gpu_parameter_goes_through_the_alias_resolver(api: httpx.Client) -> None:
    response = api.get(
        "/v1/breakeven",
        params={"model": "llama-3.1-8b-instruct", "monthly_tokens": 1e9, "gpu": "h100"},
    )
    assert response.status_code == 422
    assert "gpu" in response.json()["detail"]


def test_verify_passes_then_detects_a_tampered_print(store: Engine, pg: EmbeddedPostgres) -> None:
    checked, mismatches = verify(store)
    assert checked == STATE["published"].stored
    assert mismatches == []
    url = pg.url("gpu_index_store")
    ok = cli("gpu-index", "verify", "--from", "2026-05-01", "--to", "2026-05-10", db_url=url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with store.begin() as conn:
        tampered = conn.execute(
            text(
                "UPDATE gpu_index_print SET usd_per_gpu_hour = usd_per_gpu_hour - 0.01 "
                "WHERE gpu = 'H100-SXM-80GB' AND tenor = 'on_demand' AND segment = 'all' "
                "AND period_start = '2026-05-05T00:00:00Z' RETURNING id"
            )
        ).scalar_one()
    bad = cli("gpu-index", "verify", "--from", "2026-05-01", "--to", "2026-05-10", db_url=url)
    assert bad.returncode == 1
    assert f"print {tampered} " in bad.stdout
    assert "usd_per_gpu_hour" in bad.stdout
    assert "1 mismatches" in bad.stdout


def test_alert_rule_can_target_the_index() -> None:
    from costcurve.alerts.rules import AlertRuleCreate

    rule = AlertRuleCreate.model_validate(
        {
            "name": "H100 SXM on-demand index below $2.00",
            "target": {"type": "gpu_index", "gpu": "H100 SXM", "tenor": "on_demand"},
            "metric": "usd_per_gpu_hour",
            "threshold": "2.00",
            "channel": "json://127.0.0.1/hook",
        }
    )
    assert rule.target.gpu == "H100-SXM-80GB"  # type: ignore[union-attr]


def test_alert_value_of_an_index_target_is_the_latest_published_print(store: Engine) -> None:
    from costcurve.alerts.values import current_value

    with store.connect() as conn:
        value = current_value(
            conn, {"type": "gpu_index", "gpu": "H100-SXM-80GB"}, "usd_per_gpu_hour"
        )
        latest = conn.execute(
            text(
                "SELECT usd_per_gpu_hour FROM gpu_index_print WHERE gpu = 'H100-SXM-80GB' "
                "AND tenor = 'on_demand' AND segment = 'all' AND usd_per_gpu_hour IS NOT NULL "
                "ORDER BY period_start DESC LIMIT 1"
            )
        ).scalar_one()
    assert value is not None
    assert value.value == latest
    assert datetime.now(UTC) > value.valid_from
