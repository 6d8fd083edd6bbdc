"""Frames the tier rule (costcurve.analytics.tiers) reads: the catalog and the scores."""

from __future__ import annotations

import polars as pl

from costcurve.catalog import load_models

CATALOG_SCHEMA = {
    "model": pl.String,
    "release_date": pl.Date,
    "open_weights": pl.Boolean,
    "total_params_b": pl.Float64,
    "chat": pl.Boolean,
    "static_tier": pl.String,
}


def catalog_frame() -> pl.DataFrame:
    rows = [
        (
            m.slug,
            m.release_date,
            m.open_weights,
            float(m.total_params_b) if m.total_params_b is not None else None,
            m.chat,
            m.tier,
        )
        for m in load_models().values()
    ]
    return pl.DataFrame(rows, schema=CATALOG_SCHEMA, orient="row")
