"""Freshness: how long after it was last seen an offering's price still counts.

Every source declares an expected cadence (``SourceInfo.cadence``; history
datasets a module ``CADENCE``) and a horizon (``SourceInfo.horizon``, default
``max(7 days, 4 x cadence)``; the curated reference one year). The setting
``COSTCURVE_FRESHNESS_HORIZON_DAYS`` (JSON, per source slug) overrides any.

An offering is *stale* at instant ``at`` when its version in effect was last
seen more than its source's horizon before ``at``. (An offering missing from
its source's last complete listing is already withdrawn by ingest: its
version is closed, so it is not current at all.) Curves stop carrying a
version forward at ``last_seen_at + horizon`` unless a later version of the
same offering continues it. A curated ``reference`` row also stops counting
once a live source lists the same offering (provider and model, or provider,
GPU, count and pricing).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from costcurve.catalog.reference import HORIZON as REFERENCE_HORIZON
from costcurve.catalog.reference import SOURCE as REFERENCE
from costcurve.config import get_settings
from costcurve.core.observations import default_horizon
from scrapers.history import DATASETS
from scrapers.registry import sources

# A source that is not registered here (an old slug in the database) still
# gets a horizon: one of a daily source.
FALLBACK_HORIZON = default_horizon(timedelta(days=1))


@cache
def declared_horizons() -> dict[str, timedelta]:
    """Per source slug, the horizon its module declares (before settings)."""
    found = {slug: m.SOURCE.freshness_horizon() for slug, m in sources().items()}
    for name, module in DATASETS.items():
        cadence = getattr(module, "CADENCE", timedelta(days=1))
        found[name] = default_horizon(cadence)
    found[REFERENCE] = REFERENCE_HORIZON
    return found


def declared_cadences() -> dict[str, timedelta | None]:
    found: dict[str, timedelta | None] = {s: m.SOURCE.cadence for s, m in sources().items()}
    for name, module in DATASETS.items():
        found[name] = getattr(module, "CADENCE", timedelta(days=1))
    found[REFERENCE] = None
    return found


def horizons() -> dict[str, timedelta]:
    """Declared horizons with the settings' overrides applied."""
    overrides = get_settings().freshness_horizon_days
    out = dict(declared_horizons())
    for slug, days in overrides.items():
        out[slug] = timedelta(days=days)
    return out


def horizon_of(source: str) -> timedelta:
    return horizons().get(source, FALLBACK_HORIZON)


def horizon_sql_values() -> tuple[list[str], list[float]]:
    """(slugs, horizon seconds) for ``unnest`` in SQL that needs every source's horizon."""
    table = horizons()
    return list(table), [h.total_seconds() for h in table.values()]


FALLBACK_SECONDS = FALLBACK_HORIZON.total_seconds()
