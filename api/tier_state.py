"""The tier rule's inputs, loaded once per score import (scores, catalog, membership)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Engine

from api import curve_cache
from costcurve.analytics.tiers import membership_intervals
from costcurve.config.tiers import TierRule, get_tier_rule
from db.scores import score_frame
from db.tier_inputs import catalog_frame

_lock = threading.Lock()
_cache: dict[tuple[Any, ...], TierInputs] = {}
_MAX = 16


@dataclass(frozen=True)
class TierInputs:
    rule: TierRule
    scores: pl.DataFrame
    catalog: pl.DataFrame
    intervals: pl.DataFrame

    def static_label_models(self, models: set[str], tier: str | None = None) -> list[str]:
        """Of ``models``, those whose tier comes from the reviewed static label (flagged)."""
        frame = self.intervals.filter(
            pl.col("tier_source") == "static_label", pl.col("model").is_in(sorted(models))
        )
        if tier is not None:
            frame = frame.filter(pl.col("tier") == tier)
        return sorted(set(frame["model"].to_list()))


def score_version(engine: Engine) -> str:
    """Which scores are imported: read with the data version (db.frame_delta), so a
    request pays no query for it and a score import is a new data version."""
    return curve_cache.scores_version(engine)


def tier_inputs(engine: Engine, benchmark: str | None = None) -> TierInputs:
    """Inputs of the configured rule (optionally ranked by another benchmark)."""
    rule = get_tier_rule()
    if benchmark is not None and benchmark != rule.benchmark:
        rule = rule.model_copy(update={"benchmark": benchmark})
    key = (id(engine), score_version(engine), rule)
    with _lock:
        found = _cache.get(key)
    if found is not None:
        return found
    scores = score_frame(engine, rule.benchmark)
    catalog = catalog_frame()
    inputs = TierInputs(rule, scores, catalog, membership_intervals(scores, catalog, rule))
    with _lock:
        if len(_cache) >= _MAX:
            _cache.clear()
        _cache[key] = inputs
    return inputs
