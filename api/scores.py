"""Constant-capability deflation over stored scores and prices (Epoch AI's method)."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from sqlalchemy import Engine

from costcurve.analytics.deflation import epoch_deflation
from db.scores import INTRODUCTION_WINDOW_DAYS, epoch_frame


def epoch_estimate(
    engine: Engine, benchmark: str, threshold: float, *, exclude_reasoning: bool
) -> dict[str, Any]:
    frame = epoch_frame(engine)
    if frame.is_empty():
        raise HTTPException(
            422, detail="benchmark: no capability scores imported (costcurve scores import FILE)"
        )
    try:
        result = epoch_deflation(frame, benchmark, threshold, exclude_reasoning=exclude_reasoning)
    except ValueError as exc:
        raise HTTPException(422, detail=f"benchmark/threshold: {exc}") from None
    return {
        "benchmark": benchmark,
        "threshold": threshold,
        "exclude_reasoning": exclude_reasoning,
        "price": f"blended 3:1 at introduction (first {INTRODUCTION_WINDOW_DAYS} days)",
        **result.as_dict(),
    }
