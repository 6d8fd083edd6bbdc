"""GPU-hour rates side by side: rental (on-demand, spot), owned hardware, index.

Every self-hosted figure says which rate it used: the rental offering
(source, provider, valid_from) or the owned-hardware parameters and their
sources. ``index`` is the latest published on-demand print of the costcurve
GPU price index (a lookup registered in db.selfhost_sweeps.RATE_LOOKUPS); with
no print for the GPU the basis is listed as unavailable with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Query
from sqlalchemy import Connection

from costcurve.catalog.owned_hardware import (
    DEFAULT_LIFETIME_YEARS,
    DEFAULT_PUE,
    DEFAULT_USD_PER_KWH,
    FACILITY_SOURCE,
    OWNED_GPUS,
)
from costcurve.core.formulas import owned_usd_per_gpu_hour, usd_per_mtok
from db.selfhost_costs import COST_QUANTUM
from db.selfhost_sweeps import RATE_LOOKUPS, RateAsk

Basis = Literal["on_demand", "spot", "community", "owned", "index"]
RATE_QUANTUM = Decimal("1e-6")
HEADLINE_BASES: tuple[Basis, ...] = ("on_demand", "spot", "community", "owned", "index")


@dataclass(frozen=True)
class OwnedQuery:
    """Owned-hardware parameters of a request; None = the catalog's documented default."""

    purchase_usd: Decimal | None = None
    lifetime_years: Decimal = DEFAULT_LIFETIME_YEARS
    power_kw: Decimal | None = None
    pue: Decimal = DEFAULT_PUE
    usd_per_kwh: Decimal = DEFAULT_USD_PER_KWH


def owned_query(
    purchase_usd: Annotated[
        Decimal | None,
        Query(ge=100, le=10_000_000, description="Owned basis: GPU purchase price, USD"),
    ] = None,
    lifetime_years: Annotated[
        Decimal,
        Query(ge=0.25, le=15, description="Owned basis: straight-line lifetime, years"),
    ] = DEFAULT_LIFETIME_YEARS,
    power_kw: Annotated[
        Decimal | None,
        Query(ge=0.01, le=5, description="Owned basis: GPU board power, kW"),
    ] = None,
    pue: Annotated[
        Decimal, Query(ge=1, le=3, description="Owned basis: power usage effectiveness")
    ] = DEFAULT_PUE,
    usd_per_kwh: Annotated[
        Decimal, Query(ge=0, le=2, description="Owned basis: electricity price, USD/kWh")
    ] = DEFAULT_USD_PER_KWH,
) -> OwnedQuery:
    return OwnedQuery(purchase_usd, lifetime_years, power_kw, pue, usd_per_kwh)


OwnedDep = Annotated[OwnedQuery, Depends(owned_query)]


def owned_rate(gpu: str, owned: OwnedQuery) -> dict[str, Any]:
    spec = OWNED_GPUS.get(gpu)
    purchase = owned.purchase_usd or (spec.purchase_usd if spec else None)
    power = owned.power_kw or (spec.power_kw if spec else None)
    if purchase is None or power is None:
        missing = "purchase_usd" if purchase is None else "power_kw"
        return {
            "usd_per_gpu_hour": None,
            "reason": f"no documented owned-hardware {missing} for {gpu}; pass {missing}",
        }
    exact = owned_usd_per_gpu_hour(
        purchase, owned.lifetime_years, power, owned.pue, owned.usd_per_kwh
    )
    # A millionth of a dollar per hour: exact enough, and short enough to be a JSON number.
    rate = exact.quantize(RATE_QUANTUM, ROUND_HALF_EVEN)
    given = owned.purchase_usd is not None and owned.power_kw is not None
    return {
        "usd_per_gpu_hour": rate,
        "source": "owned",
        "parameters": {
            "purchase_usd": purchase,
            "lifetime_years": owned.lifetime_years,
            "power_kw": power,
            "pue": owned.pue,
            "usd_per_kwh": owned.usd_per_kwh,
        },
        "parameter_sources": {
            "gpu": "request" if given or spec is None else spec.source,
            "facility": FACILITY_SOURCE,
        },
        "formula": "purchase_usd / (lifetime_years * 8760) + power_kw * pue * usd_per_kwh",
        "reason": None,
    }


def rate_for(conn: Connection, basis: Basis, ask: RateAsk, owned: OwnedQuery) -> dict[str, Any]:
    """One basis's GPU-hour rate with where it came from, or null and the reason."""
    if basis == "owned":
        return owned_rate(ask.gpu, owned)
    lookup = RATE_LOOKUPS.get(basis)
    when = ask.at.isoformat().replace("+00:00", "Z")
    if lookup is None:
        return {"usd_per_gpu_hour": None, "reason": f"no {basis} rate source is configured"}
    found = lookup(conn, ask)
    if found is None:
        return {
            "usd_per_gpu_hour": None,
            "reason": f"no {basis} rate for {ask.gpu} in effect at {when}",
        }
    return {"basis": basis, "reason": None} | found


def rates_for(
    conn: Connection, ask: RateAsk, owned: OwnedQuery, bases: tuple[Basis, ...]
) -> dict[str, dict[str, Any]]:
    return {basis: rate_for(conn, basis, ask, owned) for basis in bases}


def cost(rate: Decimal | None, tokens_per_s_per_gpu: float | None) -> Decimal | None:
    """$/M tokens at a rate and throughput (the one formula), rounded to COST_QUANTUM."""
    if rate is None or tokens_per_s_per_gpu is None or tokens_per_s_per_gpu <= 0:
        return None
    return usd_per_mtok(rate, tokens_per_s_per_gpu).quantize(COST_QUANTUM, ROUND_HALF_EVEN)


def require_rate(rate: dict[str, Any], basis: str) -> Decimal:
    value = rate.get("usd_per_gpu_hour")
    if value is None:
        name = {"owned": "purchase_usd", "index": "pricing"}.get(basis, "gpu")
        raise HTTPException(422, detail=f"{name}: {rate['reason']}")
    return Decimal(value)
