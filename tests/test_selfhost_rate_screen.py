"""GPU-hour rates that price self-hosted figures pass the same screen as every price.

A quarantined rate, or an open rate its source stopped listing longer ago than
its freshness horizon, never prices a self-hosted cost or a break-even; the
figure names the cheaper rate it left out and why. (Constructed rates on the
curated ``reference`` source, whose horizon is one year; the benchmark point
is the recorded Lambda Labs run.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from costcurve.benchmarks.results import import_result_file
from costcurve.core.observations import GpuRate
from db.benchmarks import store_points
from db.models import GpuOffering, GpuRateVersion, PriceFlag
from db.pipeline import IngestOptions, SourceRow, ingest_observations
from db.selfhost_costs import self_hosted_costs
from db.selfhost_sweeps import RateAsk, cheapest_rate
from tests.support import DATASETS, require_shared

GPU = "H100-SXM-80GB"
SEEN = datetime(2024, 1, 1, tzinfo=UTC)


def _rate(provider: str, usd: str) -> GpuRate:
    return GpuRate(
        source="reference", provider=provider, gpu=GPU, gpu_count=1, pricing="on_demand",
        usd_per_gpu_hour=Decimal(usd), observed_at=SEEN, source_url="https://example.com",
    )  # fmt: skip


def _version_of(engine: Engine, provider: str) -> int:
    o, v = GpuOffering.__table__, GpuRateVersion.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        found: int = conn.execute(
            select(v.c.id).join(o, o.c.id == v.c.offering_id).where(o.c.provider == provider)
        ).scalar_one()
    return found


@pytest.fixture
def rates(engine: Engine) -> Engine:
    require_shared(DATASETS / "benchmarks")
    (path,) = (DATASETS / "benchmarks").glob("lambdalabs_*.json")
    store_points(engine, import_result_file(path.read_bytes(), gpu=GPU, gpu_count=1))
    ingest_observations(
        engine,
        SourceRow("reference", "reference"),
        [_rate("cheapco", "2.00"), _rate("acme", "3.00")],
        IngestOptions(listing_complete=False),
    )
    return engine


def _quarantine(engine: Engine, version_id: int) -> None:
    flag = PriceFlag(gpu_rate_version_id=version_id, reason="outlier", field="usd_per_gpu_hour")
    with engine.begin() as conn:
        conn.execute(
            PriceFlag.__table__.insert(),  # type: ignore[attr-defined]
            flag.model_dump(exclude={"id"}),
        )


def test_a_quarantined_rate_never_prices_a_break_even_and_is_named(rates: Engine) -> None:
    cheap = _version_of(rates, "cheapco")
    _quarantine(rates, cheap)
    with rates.connect() as conn:
        found = cheapest_rate(conn, "on_demand", RateAsk(GPU, SEEN + timedelta(days=30)))
    assert found is not None
    assert (found["provider"], found["usd_per_gpu_hour"]) == ("acme", Decimal("3.00"))
    assert found["cheaper_rate_left_out"] == {
        "usd_per_gpu_hour": Decimal("2.00"),
        "version_id": cheap,
        "reason": "quarantined",
    }


def test_a_quarantined_rate_never_prices_a_self_hosted_cost(rates: Engine) -> None:
    _quarantine(rates, _version_of(rates, "cheapco"))
    with rates.connect() as conn:
        (item,) = self_hosted_costs(conn)
    cost = item["costs"]["on_demand"]
    assert cost["usd_per_gpu_hour"] == Decimal("3.00")
    assert cost["cheaper_rate_left_out"]["reason"] == "quarantined"
    assert cost["cheaper_rate_left_out"]["usd_per_gpu_hour"] == Decimal("2.00")


def test_an_unscreened_cheapest_rate_reports_nothing_left_out(rates: Engine) -> None:
    with rates.connect() as conn:
        found = cheapest_rate(conn, "on_demand", RateAsk(GPU, SEEN + timedelta(days=30)))
        (item,) = self_hosted_costs(conn)
    assert found is not None
    assert (found["usd_per_gpu_hour"], found["cheaper_rate_left_out"]) == (Decimal("2.00"), None)
    assert item["costs"]["on_demand"]["cheaper_rate_left_out"] is None


def test_a_stale_rate_prices_nothing_and_the_answer_says_why(rates: Engine) -> None:
    # Two years after the last sighting: beyond the reference source's one-year horizon.
    later = SEEN + timedelta(days=730)
    with rates.connect() as conn:
        found = cheapest_rate(conn, "on_demand", RateAsk(GPU, later))
        (item,) = self_hosted_costs(conn, rate_policy="current", now=later)
    assert found is not None
    assert found["usd_per_gpu_hour"] is None
    assert found["cheaper_rate_left_out"]["reason"] == "stale"
    assert "left out (the cheapest is stale)" in found["reason"]
    cost = item["costs"]["on_demand"]
    assert cost["usd_per_gpu_hour"] is None
    assert cost["cheaper_rate_left_out"]["reason"] == "stale"
