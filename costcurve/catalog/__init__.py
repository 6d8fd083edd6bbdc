"""The reviewed catalogs of canonical models and GPUs (data in YAML/CSV beside this file)."""

from costcurve.catalog.models import (
    TIERS,
    CanonicalModel,
    load_models,
    models_in_tier,
    resolve_model,
    unresolved,
)

__all__ = [
    "TIERS",
    "CanonicalModel",
    "load_models",
    "models_in_tier",
    "resolve_model",
    "unresolved",
]
