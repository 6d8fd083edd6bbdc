"""Constant-capability deflation over stored scores and prices (Epoch AI's method)."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
from fastapi import HTTPException
from sqlalchemy import Engine

from api.curve_query import CurveQuery
from costcurve.analytics.deflation import epoch_deflation
from costcurve.core.formulas import DEFAULT_BLEND, BlendRatio
from db.scores import INTRODUCTION_WINDOW_DAYS, epoch_frame


def _walk_robust(models: list[dict[str, Any]]) -> dict[str, Any]:
    """The same kept points fitted with the autocorrelation-robust interval."""
    from api.capability_fits import fit_series

    series = pl.DataFrame(
        {
            "date": [m["date"] for m in models],
            "price": [m["usd_per_mtok"] for m in models],
        }
    ).with_columns(pl.col("date").cast(pl.Datetime("us", "UTC")))
    fit = fit_series(series, what="the kept models")
    fit.pop("points")
    return fit


def epoch_estimate(
    engine: Engine,
    benchmark: str,
    threshold: float,
    *,
    exclude_reasoning: bool,
    ratio: BlendRatio = DEFAULT_BLEND,
    window: CurveQuery | None = None,
) -> dict[str, Any]:
    frame = epoch_frame(engine, ratio)
    if frame.is_empty():
        raise HTTPException(
            422,
            detail="benchmark: no capability scores imported (costcurve scores import-epoch "
            "DIR, or start with the shared datasets present)",
        )
    try:
        result = epoch_deflation(frame, benchmark, threshold, exclude_reasoning=exclude_reasoning)
    except ValueError as exc:
        raise HTTPException(422, detail=f"benchmark/threshold: {exc}") from None
    body: dict[str, Any] = {
        "benchmark": benchmark,
        "threshold": threshold,
        "exclude_reasoning": exclude_reasoning,
        "question": "price of constant capability: the cheapest model at or above the "
        "threshold, walking release dates (Epoch AI 2025)",
        "price": f"blended {ratio.label} at introduction (first {INTRODUCTION_WINDOW_DAYS} days)",
        "ci90_method": "OLS t interval over the kept models (Epoch AI); see robust",
        **result.as_dict(),
    }
    if not all(math.isfinite(v) for v in body["ci90"]):
        body["ci90"] = [None, None]
    body["robust"] = _walk_robust(body["models"])
    if window is not None:
        from api.capability_fits import constant_capability
        from api.tier_state import tier_inputs

        try:
            body["monthly"] = {
                "question": "cheapest listed price each month among models scoring at or "
                "above the threshold (stored price versions, observed months only)",
                **constant_capability(
                    engine, threshold, window, ratio, tier_inputs(engine, benchmark)
                ),
            }
        except HTTPException as exc:
            body["monthly"] = {"error": exc.detail}
    return body
