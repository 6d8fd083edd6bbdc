"""Capability-tier and constant-capability deflation figures on a fresh install.

Starts a throwaway embedded PostgreSQL, loads what ``costcurve up`` loads (the
curated reference price history and the shipped capability datasets from
``../shared``, or ``COSTCURVE_SHARED_DIR``), and asks the API (in-process
ASGI) for: the score match rate per source, per tier the price-of-tier fit
under static labels (the old price bands) and under capability membership,
each with the constant-capability fit for the level the tier had at the start,
and ``/v1/deflation?benchmark=...&threshold=...`` for several thresholds.

    .venv/bin/python bench/capability_report.py [TO=2026-06-30]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.main import create_app
from db.backfill import load_reference_history
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.migrate import upgrade
from db.score_import import load_shipped_scores, match_rates

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("COSTCURVE_SHARED_DIR", REPO.parent / "shared"))
THRESHOLDS = {
    "ECI": (115, 120, 125, 130, 135, 140),
    "GPQA Diamond": (0.4, 0.5, 0.6),
    "MATH Level 5": (0.5, 0.7, 0.9),
}


def _ci(body: dict[str, Any], key: str = "ci90") -> str:
    lo, hi = body.get(key) or (None, None)
    return "-" if lo is None else f"{lo:.2f}-{hi:.2f}"


def _fit(body: dict[str, Any], other: str = "ci90_conservative") -> str:
    if "factor_per_year" not in body:
        return str(body.get("detail") or body.get("error"))
    return f"{body['factor_per_year']:.2f} ({_ci(body)}; {_ci(body, other)}) n={body['n']}"


def _cc(body: dict[str, Any]) -> str:
    cc = body.get("constant_capability", {})
    if "factor_per_year" not in cc:
        return str(cc.get("error"))
    return f"{cc['factor_per_year']:.2f} ({_ci(cc)}) [ECI>={cc['threshold']:.1f}, n={cc['n']}]"


def _epoch(status: int, body: dict[str, Any]) -> str:
    if status != 200:
        return f"{status} {body.get('detail')}"
    kept = ", ".join(f"{k['model']} {k['date']} ${k['usd_per_mtok']:g}" for k in body["models"])
    walk = f"{body['factor_per_year']:.2f} ({_ci(body)}) n={body['n']}"
    return f"{walk} | {_fit(body.get('monthly', {}))} | {kept}"


def main(to: str) -> None:
    base = Path(tempfile.mkdtemp(prefix="costcurve-capability-"))
    server = EmbeddedPostgres(base, cleanup_mode="delete")
    try:
        server.ensure_database("report")
        url = server.url("report")
        upgrade(url)
        engine = make_engine(url)
        load_reference_history(engine)
        report = load_shipped_scores(engine, SHARED)
        print("scores:", report.summary() if report else "shared datasets absent")
        for rate in match_rates(engine):
            print(json.dumps(rate, default=str))
        client = TestClient(create_app(engine))
        print(
            "\ntier | old static band x/yr (HAC CI; naive OLS CI) | capability tier x/yr "
            "(HAC CI; conservative) n | constant capability x/yr (HAC CI) [threshold, n]"
        )
        for tier in ("frontier", "strong", "good"):
            old = client.get("/v1/deflation", params={"tier": tier, "to": to, "tiers": "static"})
            new = client.get("/v1/deflation", params={"tier": tier, "to": to}).json()
            print(" | ".join([tier, _fit(old.json(), "ci90_ols_naive"), _fit(new), _cc(new)]))
        fp = client.get("/v1/frontier-price", params={"metric": "ECI", "to": to}).json()
        print("\nprice of the frontier (best priced model):", _fit(fp))
        print(
            "\nbenchmark | threshold | Epoch walk x/yr (OLS CI) n | monthly series x/yr "
            "(HAC CI; conservative) n | kept models"
        )
        for bench, thresholds in THRESHOLDS.items():
            for threshold in thresholds:
                params = {"benchmark": bench, "threshold": threshold, "to": to}
                r = client.get("/v1/deflation", params=params)
                print(f"{bench} | {threshold} | " + _epoch(r.status_code, r.json()))
        engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "2026-06-30")
