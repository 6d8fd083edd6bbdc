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
            "\ntier | old static-band x/yr (CI) | capability tier x/yr (robust CI) | "
            "constant-capability x/yr (robust CI) [threshold, n]"
        )
        for tier in ("frontier", "strong", "good"):
            old = client.get("/v1/deflation", params={"tier": tier, "to": to, "tiers": "static"})
            new = client.get("/v1/deflation", params={"tier": tier, "to": to})
            o, n = old.json(), new.json()
            cc = n.get("constant_capability", {})
            cc_text = (
                f"{cc['factor_per_year']:.2f} ({_ci(cc)}; cons. {_ci(cc, 'ci90_conservative')}) [ECI>={cc['threshold']:.1f}, n={cc['n']}]"
                if "factor_per_year" in cc
                else str(cc.get("error"))
            )
            print(
                f"{tier} | {o.get('factor_per_year', 0):.2f} ({_ci(o)}; naive {_ci(o, 'ci90_ols_naive')}) "
                f"| {n.get('factor_per_year', 0):.2f} ({_ci(n)}; cons. {_ci(n, 'ci90_conservative')}, n={n.get('n')}) | {cc_text}"
            )
        print(
            "\nbenchmark | threshold | Epoch walk x/yr (OLS CI; HAC CI) n | monthly x/yr (robust CI) n | kept models"
        )
        for bench, thresholds in THRESHOLDS.items():
            for threshold in thresholds:
                r = client.get(
                    "/v1/deflation", params={"benchmark": bench, "threshold": threshold, "to": to}
                )
                b = r.json()
                if r.status_code != 200:
                    print(f"{bench} | {threshold} | {r.status_code} {b.get('detail')}")
                    continue
                m = b.get("monthly", {})
                monthly = (
                    f"{m['factor_per_year']:.2f} ({_ci(m)}; cons. {_ci(m, 'ci90_conservative')}) n={m['n']} r={m['lag1_autocorrelation']:.2f}"
                    if "n" in m
                    else m.get("error")
                )
                kept = ", ".join(
                    f"{k['model']} {k['date']} ${k['usd_per_mtok']:g}" for k in b["models"]
                )
                print(
                    f"{bench} | {threshold} | {b['factor_per_year']:.2f} ({_ci(b)}; "
                    f"{_ci(b['robust'], 'ci90_conservative')}) n={b['n']} | {monthly} | {kept}"
                )
        engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "2026-06-30")
